import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logger.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { authorizationUrl, client, redeem, refreshRequest, relyingParty, signIn, startAuthorization, submitLogin } from '../support/oidc.js';
import { messagesTo } from '../support/outbox.js';
import { startTestServer, testPerson, testService } from '../support/server.js';

/** Log lines written to memory, as the JSON objects pino produced. */
function captured() {
  const lines: string[] = [];
  return { destination: { write: (line: string) => void lines.push(line) }, lines };
}

describe('logs', () => {
  it('follow a whole day of one person at trace level without a password, token, code, cookie or codice fiscale in clear', async () => {
    const log = captured();
    const dataDir = mkdtempSync(join(tmpdir(), 'iam-logs-'));
    const server = await startTestServer({
      services: [testService({ id: 'servizio-log', name: 'Servizio Log' })],
      env: { LOG_LEVEL: 'trace', DATA_DIR: dataDir },
      logDestination: log.destination,
    });
    try {
      const rp = await relyingParty(server.url, server.services[0]!);
      const person = testPerson();
      const account = await server.deps.provisioning.provision(person);
      const secrets: string[] = [person.password, person.fiscalCode];

      // a wrong password, then the right one, tokens, userinfo, a refresh
      const browser = new FormBrowser(server.url);
      await submitLogin(browser, await startAuthorization(browser, await authorizationUrl(rp)), account.username, 'Sbagliata-Password-9');
      secrets.push('Sbagliata-Password-9');
      const { start, page } = await signIn(browser, rp, { username: account.username, password: person.password }, { scope: 'openid profile offline_access', prompt: 'consent' });
      const tokens = await redeem(rp, page.url, start);
      await client.fetchUserInfo(rp.config, tokens.access_token, tokens.claims()!.sub);
      const refreshed = await refreshRequest(rp, tokens.refresh_token!);
      secrets.push(new URL(page.url).searchParams.get('code')!, tokens.access_token, tokens.refresh_token!, tokens.id_token!, refreshed.body.access_token!);
      secrets.push(...browser.cookieValues());

      // Password dimenticata? with the codice fiscale, the link's token, a new password
      const other = new FormBrowser(server.url);
      const form = formFields((await other.follow(await other.get('/recupero/password'))).body, /\/recupero\/password$/);
      await other.follow(await other.post(form.action, { ...form.fields, username: account.username, codice_fiscale: person.fiscalCode }));
      await server.deps.outgoingMail.drain();
      const link = /https?:\/\/\S+\/recupero\/password\/nuova\?token=[\w-]+/.exec(messagesTo(join(dataDir, 'outbox'), person.personalEmail!).at(-1)!.text)![0];
      const reset = await other.follow(await other.get(link));
      const resetForm = formFields(reset.body, /\/recupero\/password\/nuova$/);
      const done = await other.follow(await other.post(resetForm.action, { ...resetForm.fields, next: 'Lavagna-Verde-7', confirm: 'Lavagna-Verde-7' }));
      expect(done.body).toContain('Password cambiata');
      secrets.push(new URL(link).searchParams.get('token')!, 'Lavagna-Verde-7', ...other.cookieValues());

      const entries = log.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const requests = entries.filter((e) => e['msg'] === 'request');
      expect(requests.length).toBeGreaterThan(15);
      for (const request of requests) {
        expect(request['requestId']).toMatch(/^[0-9a-f-]{36}$/);
        expect(request['route']).toEqual(expect.any(String));
        expect(request).not.toHaveProperty('path');
      }
      const text = log.lines.join('');
      for (const secret of secrets) {
        expect(secret.length).toBeGreaterThan(7);
        expect(text).not.toContain(secret);
      }
      // nor an interaction's id, which the paths carry
      expect(text).not.toMatch(/\/interaction\/[\w-]{10,}/);
    } finally {
      await server.close();
    }
  });

  it('redact secrets passed by name and mask a codice fiscale quoted in an error', () => {
    const log = captured();
    const logger = createLogger('info', log.destination);
    const error = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      detail: 'Key (fiscal_code)=(RSSMRA85T10A562S) already exists.',
    });
    logger.error({ err: error, password: 'p1', account: { fiscalCode: 'RSSMRA85T10A562S', refresh_token: 'rt' } }, 'failed');
    const [entry] = log.lines.map((line) => JSON.parse(line) as { err: { code: string; detail: string }; password: string; account: Record<string, string> });
    expect(entry!.err.detail).toBe('Key (fiscal_code)=([cf]) already exists.');
    expect(entry!.err.code).toBe('23505');
    expect(entry!.password).toBe('[redacted]');
    expect(entry!.account).toEqual({ fiscalCode: '[redacted]', refresh_token: '[redacted]' });
  });
});
