import { loadConfig } from '../../src/config.js';
import { passwordResetMail, usernameReminderMail } from '../../src/mail/messages.js';
import { createMailRenderer } from '../../src/mail/templates.js';

const render = createMailRenderer(loadConfig({ NODE_ENV: 'test', HELPDESK_PHONE: '06 000 000', HELPDESK_URL: 'https://assistenza.example/' }));
const person = { givenName: 'Anna', familyName: "D'Amico <script>", username: 'anna.damico', type: 'standard' as const };

describe('mail templates', () => {
  it('render one message as Italian text and HTML in the one layout, escaped only in HTML', async () => {
    const mail = await render(passwordResetMail(person, { url: 'https://iam.example/recupero/password/nuova?token=abc&x=1', minutes: 30 }));
    expect(mail.subject).toBe('Scegli una nuova password per IAM Istruzione');

    expect(mail.text).toContain("Gentile Anna D'Amico <script>,");
    expect(mail.text).toContain('Scegli una nuova password:\nhttps://iam.example/recupero/password/nuova?token=abc&x=1\n');
    expect(mail.text).toContain('Il link vale 30 minuti e si può usare una sola volta.');
    expect(mail.text).toContain('Assistenza: 06 000 000');
    expect(mail.text).not.toMatch(/\n{3,}/);

    expect(mail.html).toContain('<html lang="it">');
    expect(mail.html).toContain('Gentile Anna D&#39;Amico &lt;script&gt;,');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('href="https://iam.example/recupero/password/nuova?token=abc&amp;x=1"');
    expect(mail.html).toContain('href="https://assistenza.example/"');
  });

  it('word the password hint by account type', async () => {
    expect((await render(usernameReminderMail(person))).text).toContain('Password dimenticata?');
    expect((await render(usernameReminderMail({ ...person, type: 'mi' }))).text).toContain('Responsabile della sicurezza');
  });
});
