import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMailer } from '../../src/mail/transport.js';

describe('mailer', () => {
  it('writes messages to the local outbox when no SMTP server is configured', async () => {
    const outboxDir = join(mkdtempSync(join(tmpdir(), 'iam-mail-')), 'outbox');
    const mailer = createMailer({ from: 'IAM Istruzione <noreply@istruzione.it>', outboxDir });
    await mailer.send({ to: 'mario.rossi@example.org', subject: 'Prova di invio', text: 'Gentile utente, è un messaggio di prova.' });
    const files = readdirSync(outboxDir);
    expect(files).toHaveLength(1);
    const eml = readFileSync(join(outboxDir, files[0]!), 'utf8');
    expect(eml).toContain('To: mario.rossi@example.org');
    expect(eml).toContain('Subject: Prova di invio');
    expect(mailer.describe()).toContain(outboxDir);
  });

  it('speaks SMTP to the configured server', async () => {
    // a minimal SMTP peer that accepts one message and records the conversation
    const lines: string[] = [];
    const server = createServer((socket) => {
      let data = false;
      socket.write('220 test ESMTP\r\n');
      socket.on('data', (chunk) => {
        for (const line of chunk.toString().split('\r\n').filter(Boolean)) {
          lines.push(line);
          if (data) {
            if (line === '.') { data = false; socket.write('250 queued\r\n'); }
            continue;
          }
          if (/^(EHLO|HELO)/i.test(line)) socket.write('250 test\r\n');
          else if (/^DATA/i.test(line)) { data = true; socket.write('354 go\r\n'); }
          else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
          else socket.write('250 ok\r\n');
        }
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'noreply@istruzione.it', outboxDir: '/nonexistent' });
    await mailer.send({ to: 'giulia.bianchi@istruzione.it', subject: 'SMTP', text: 'ciao' });
    server.close();
    expect(lines).toContain('RCPT TO:<giulia.bianchi@istruzione.it>');
    expect(lines.some((l) => l.startsWith('Subject: SMTP'))).toBe(true);
  });
});
