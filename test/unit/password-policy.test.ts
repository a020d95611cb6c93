import { join } from 'node:path';
import ejs from 'ejs';
import {
  SPID_LEVEL_1_POLICY as spid,
  birthDateForms,
  brokenRules,
  historyToCheck,
  isTrivialVariant,
  policyRules,
  type PasswordOwner,
} from '../../src/accounts/password-policy.js';
import { projectRoot } from '../../src/config.js';
import { t, type MessageKey } from '../../src/i18n/index.js';

const owner: PasswordOwner = {
  username: 'nicolo.dangelo1',
  givenName: 'Nicolò',
  familyName: "D'Angelo",
  fiscalCode: 'DNGNCL80E20H501X',
  birthDate: '1980-05-20',
};

const broken = (candidate: string, context: Parameters<typeof brokenRules>[2] = { owner }) =>
  brokenRules(spid, candidate, context).map((rule) => rule.name);

describe('password policy (SPID level 1 defaults)', () => {
  it.each([
    // [candidate, rules it breaks]
    ['Lavagna-Verde7', []],
    ['Ab1!efgh', []], // exactly 8
    ['Ab1!efg', ['length']], // 7
    [`Ab1!${'xy'.repeat(62)}`, []], // exactly 128
    [`Ab1!${'xy'.repeat(63)}`, ['length']], // 130
    ['lavagna-verde7', ['upper']],
    ['LAVAGNA-VERDE7', ['lower']],
    ['Lavagna-Verde', ['digit']],
    ['LavagnaVerde7', ['special']],
    ['Lavagna Verde7', ['special']], // a space is not a special character
    ['Lavagna_Verde7', []], // an underscore is
    ['Lavagna€Verde7', []],
    ['Àncora-Ñandù-7', []], // accented letters count as letters
    ['Lavagna-Veeerde7', ['repeated']],
    ['Lavagna-Veerde7', []],
    ['Lavagna-Verde777', ['repeated']],
    ['Lavagna!!!Verde7', ['repeated']],
    ['Nicolo-Verde7', ['personal_data']], // given name, accent dropped
    ['NICOLÒ-verde7', ['personal_data']],
    ['Dangelo-Verde7', ['personal_data']], // family name without the apostrophe
    ["D'Angelo-Verde7", ['personal_data']],
    ['Nicolo.Dangelo1!x', ['personal_data']], // username
    ['Verde-dngncl80e20h501x', ['personal_data']], // codice fiscale, any case
    ['Verde-20051980!', ['personal_data']], // ddmmyyyy
    ['Verde-1980-05-20!', ['personal_data']], // yyyy-mm-dd
    ['Verde-200580!', ['personal_data']], // ddmmyy
    ['Verde-20/05/1980', ['personal_data']], // dd/mm/yyyy
    ['Verde-20.05.80A', ['personal_data']], // dd.mm.yy
    ['Verde-19800520a', ['personal_data']], // yyyymmdd
    ['Verde-2005-Lab!', []], // 2005 alone is not the birth date
    ['aaa', ['length', 'upper', 'digit', 'special', 'repeated']],
    ['', ['length', 'upper', 'lower', 'digit', 'special']],
  ])('%j breaks %j', (candidate, rules) => {
    expect(broken(candidate)).toEqual(rules);
  });

  it('looks for no name shorter than three letters', () => {
    expect(brokenRules(spid, 'Lino-Verde7', { owner: { ...owner, givenName: 'Li', username: 'li.wu' , familyName: 'Wu' } })).toEqual([]);
  });

  it.each([
    ['Scuola-Demo-2026!', 'Scuola-Demo-2026!', true], // the same
    ['scuola-demo-2026!', 'Scuola-Demo-2026!', true], // case only
    ['Scuola-Demo-2027!', 'Scuola-Demo-2026!', true], // a digit changed
    ['Scuola-Demo-2026?', 'Scuola-Demo-2026!', true], // the trailing symbol changed
    ['Scuola-Demo-2026!!', 'Scuola-Demo-2026!', true], // a trailing symbol added
    ['Scuola-Demo-20261', 'Scuola-Demo-2026!', true], // the tail rewritten with digits
    ['Scu0la-Dem0-2026!', 'Scuola-Demo-2026!', false], // letters changed into digits: a new password
    ['Lavagna-Verde-2026!', 'Scuola-Demo-2026!', false],
  ])('%j is a trivial variant of %j: %s', (candidate, current, expected) => {
    expect(isTrivialVariant(candidate, current)).toBe(expected);
    expect(broken(candidate, { current }).includes('not_current')).toBe(expected);
  });

  it('knows the common ways of writing a birth date', () => {
    expect(birthDateForms('1980-05-20')).toEqual(expect.arrayContaining(['20051980', '1980-05-20', '200580', '20/05/1980', '20.05.80', '19800520', '05/20/1980']));
    expect(birthDateForms('not a date')).toEqual([]);
  });

  it('checks the last five passwords and any set in the last fifteen months', () => {
    const now = new Date('2026-11-30T10:00:00Z');
    const monthsAgo = (m: number) => { const d = new Date(now); d.setMonth(d.getMonth() - m); return d; };
    const history = [1, 2, 3, 4, 5, 6, 7, 8, 14, 16, 30].map((m, i) => ({ id: i, setAt: monthsAgo(m) })); // newest first
    expect(historyToCheck(spid, history, now).map((h) => h.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // changed rarely: the last five, however old
    const rare = [20, 40, 60, 80, 100, 120].map((m, i) => ({ id: i, setAt: monthsAgo(m) }));
    expect(historyToCheck(spid, rare, now).map((h) => h.id)).toEqual([0, 1, 2, 3, 4]);
    // changed every week: the cost of a change stays bounded, the latest ones are compared
    const weekly = Array.from({ length: 60 }, (_, i) => ({ id: i, setAt: new Date(now.getTime() - i * 7 * 86_400_000) }));
    expect(historyToCheck(spid, weekly, now).map((h) => h.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('is configurable', () => {
    const lenient = { ...spid, minLength: 12, requireSpecial: false, maxRepeated: 0, forbidPersonalData: false };
    expect(brokenRules(lenient, 'Nicolo7777777').map((r) => r.name)).toEqual([]);
    expect(brokenRules(lenient, 'Nicolo7777').map((r) => r.name)).toEqual(['length']);
    expect(policyRules(lenient).map((r) => r.name)).toEqual(['length', 'upper', 'lower', 'digit', 'not_current', 'history']);
    expect(spid.maxAgeDays).toEqual({ standard: 180, mi: 180 });
  });

  it('words each rule once, for the list and for the error alike', async () => {
    const rules = policyRules(spid);
    const texts = rules.map((rule) => t(`password.rule.${rule.name}` as MessageKey, rule.vars));
    expect(texts[0]).toBe('da 8 a 128 caratteri');
    for (const text of texts) expect(text).not.toMatch(/\{\w+\}|^password\./);

    const views = join(projectRoot(), 'views');
    const html = await ejs.renderFile(join(views, 'partials/password-rules.ejs'), { t, passwordRules: rules });
    for (const text of texts) expect(html).toContain(ejs.escapeXML(text));
    const [error] = brokenRules(spid, 'Lavagna-Verde').map((rule) => t('password.rule_broken', { rule: t(`password.rule.${rule.name}` as MessageKey, rule.vars) }));
    expect(error).toBe(`La password non rispetta questa regola: ${t('password.rule.digit')}.`);
  });
});
