import { generate } from 'otplib';
import { formFields, type FormBrowser } from './browser.js';

/** The key shown by the enrolment page, without the spaces it is grouped by. */
export const secretOn = (html: string) => /<p class="font-monospace fw-semibold mb-3">([A-Z2-7 ]+)<\/p>/.exec(html)?.[1]?.replace(/ /g, '');

/** The ten recovery codes shown by the enrolment page. */
export const recoveryCodesOn = (html: string) => [...html.matchAll(/<li class="col">([a-z0-9]{5}-[a-z0-9]{5})<\/li>/g)].map((m) => m[1]!);

/** Submits a code on the second_factor gate's page and follows where it leads. */
export async function sendCode(b: FormBrowser, page: { body: string }, code: string) {
  const form = formFields(page.body, /\/gate$/);
  return b.follow(await b.post(form.action, { ...form.fields, code }));
}

/** The TOTP code of the key now, or so many seconds from now (a later step: never one already taken). */
export const codeAt = (secret: string, offsetSeconds = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offsetSeconds });
