import { join } from 'node:path';
import ejs from 'ejs';
import type { Config } from '../config.js';
import { translator, type Locale } from '../i18n/index.js';

/**
 * A message as the catalogue words it; one layout (views/mail/layout.{html,text}.ejs) turns
 * it into the text and HTML parts, with the ministry's header and the help-desk footer.
 */
export interface MailContent {
  subject: string;
  /** "Gentile Anna Rossi," */
  greeting: string;
  paragraphs: string[];
  /** at most one thing to do: a button in HTML, the bare address in text */
  action?: { label: string; url: string };
  /** after the action: how long it lasts, what to do if it was not you */
  notes?: string[];
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export type RenderMail = (content: MailContent, locale?: Locale) => Promise<RenderedMail>;

export function createMailRenderer(config: Pick<Config, 'rootDir' | 'helpdesk' | 'env'>): RenderMail {
  const dir = join(config.rootDir, 'views', 'mail');
  const options = { cache: config.env === 'production', root: dir };
  return async (content, locale = 'it') => {
    const data = { mail: { notes: [], ...content }, t: translator(locale), helpdesk: config.helpdesk };
    const [html, text] = await Promise.all([
      ejs.renderFile(join(dir, 'layout.html.ejs'), data, options),
      ejs.renderFile(join(dir, 'layout.text.ejs'), data, options),
    ]);
    return { subject: content.subject, html, text: text.replace(/\n{3,}/g, '\n\n') };
  };
}

/** "12 marzo 2026 alle ore 10:15", in Italian time. */
export function formatDateTime(date: Date): string {
  return new Intl.DateTimeFormat('it-IT', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Rome' }).format(date);
}
