/**
 * A minimal browser for HTTP-level tests: a cookie jar, manual redirects, and
 * form submission read from the returned HTML.
 */
export class FormBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string, private readonly extraHeaders: Record<string, string> = {}) {}

  async get(url: string): Promise<Response> {
    return this.request(url, { method: 'GET' });
  }

  async post(url: string, fields: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Follows redirects while they stay on the provider; returns the first response elsewhere or a page. */
  async follow(start: Response): Promise<{ response: Response; url: string; body: string }> {
    let response = start;
    let url = response.url;
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (!location || response.status < 300 || response.status >= 400) break;
      const next = new URL(location, url);
      if (next.origin !== this.origin) return { response, url: next.toString(), body: '' };
      url = next.toString();
      response = await this.get(url);
    }
    return { response, url, body: await response.text() };
  }

  async request(url: string, init: RequestInit): Promise<Response> {
    const target = new URL(url, this.origin);
    const headers = new Headers({ ...this.extraHeaders, ...Object.fromEntries(new Headers(init.headers)) });
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (cookie && target.origin === this.origin) headers.set('cookie', cookie);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.store(line);
    Object.defineProperty(response, 'url', { value: target.toString() });
    return response;
  }

  /** The names of the cookies the jar holds. */
  cookieNames(): string[] {
    return [...this.cookies.keys()];
  }

  /** One cookie's value, by name. */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** The values of the cookies the provider has set, as a thief of the jar would see them. */
  cookieValues(): string[] {
    return [...this.cookies.values()];
  }

  private store(line: string) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => /^\s*expires=thu, 01 jan 1970/i.test(a)) || value === '';
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

export function formFields(html: string, action: RegExp): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const form = forms.find((f) => action.test(f[1]!));
  if (!form) throw new Error(`no form with action ${action} in page:\n${html.slice(0, 2000)}`);
  const fields: Record<string, string> = {};
  for (const [input] of form[2]!.matchAll(/<input[^>]*>/g)) {
    const name = /\sname="([^"]+)"/.exec(input)?.[1];
    if (name) fields[name] = decode(/\svalue="([^"]*)"/.exec(input)?.[1] ?? '');
  }
  return { action: decode(form[1]!), fields };
}

function decode(value: string): string {
  return value.replace(/&amp;/g, '&').replace(/&#34;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}
