import { join } from 'node:path';
import ejs from 'ejs';
import { translator, type Locale, type Translate } from '../i18n/index.js';
import type { Config } from '../config.js';

export interface PageLocals {
  title: string;
  /** the service the person is signing in to, shown in the banner */
  service?: { name: string; logo?: string } | null;
  csrfToken?: string;
  [key: string]: unknown;
}

export type RenderPage = (view: string, locals: PageLocals, locale?: Locale) => Promise<string>;

/** Renders views/<view>.ejs inside views/_layout.ejs; every page gets `t`, the help-desk contact and the organisation. */
export function createPageRenderer(config: Pick<Config, 'rootDir' | 'helpdesk' | 'organisation' | 'env'>): RenderPage {
  const viewsDir = join(config.rootDir, 'views');
  const cache = config.env === 'production';
  return async (view, locals, locale = 'it') => {
    const t: Translate = translator(locale);
    const data = { service: null, csrfToken: undefined, ...locals, t, locale, helpdesk: config.helpdesk, organisation: config.organisation };
    const options = { cache, root: viewsDir, views: [viewsDir] };
    const body = await ejs.renderFile(join(viewsDir, `${view}.ejs`), data, options);
    return ejs.renderFile(join(viewsDir, '_layout.ejs'), { ...data, body }, options);
  };
}
