import {
  USERNAME_MAX_LENGTH,
  asciiFold,
  baseUsername,
  checkLoginUsername,
  isMiUsername,
  isStandardUsername,
  nextAvailableUsername,
  normalizeUsername,
  pickUsername,
} from '../../src/accounts/username.js';

describe('baseUsername', () => {
  test.each([
    ['Mario', 'Rossi', 'mario.rossi'],
    ['Maria Grazia', 'Esposito', 'mariagrazia.esposito'],
    ['Anna', "D'Amico", 'anna.damico'],
    ['Anna', 'D’Amico', 'anna.damico'], // typographic apostrophe
    ['Niccolò', 'De Luca', 'niccolo.deluca'],
    ['Anna-Maria', "Dell'Acqua", 'annamaria.dellacqua'],
    ['José', 'Müller-Lüdenscheidt', 'jose.mullerludenscheidt'],
    ['Jürgen', 'Strauß', 'jurgen.strauss'],
    ['Bjørn', 'Ærø', 'bjorn.aero'],
    ['Chloé', 'Œuvre', 'chloe.oeuvre'],
    ['Łukasz', 'Dąbrowski', 'lukasz.dabrowski'],
    ['Þóra', 'Đorđević', 'thora.dordevic'],
    ['Ｍario', 'Ｒossi', 'mario.rossi'], // full-width letters
    ['  Ugo ', ' Fo  ', 'ugo.fo'],
    ['Luigi 2°', 'Verdi (jr.)', 'luigi.verdijr'],
  ])('%j %j → %s', (givenName, familyName, expected) => {
    expect(baseUsername(givenName, familyName)).toBe(expected);
  });

  test.each([
    ['Иван', 'Rossi'],
    ['Mario', ''],
    ['', 'Rossi'],
    ["'", '-'],
  ])('%j %j → null: no Latin letters to build from', (givenName, familyName) => {
    expect(baseUsername(givenName, familyName)).toBeNull();
  });

  test('very long names leave room for a suffix within the length bound', () => {
    const base = baseUsername('Giovanni'.repeat(10), 'Castellammare'.repeat(10));
    expect(base).not.toBeNull();
    const withSuffix = pickUsername(base ?? '', [base ?? '']);
    expect(withSuffix.length).toBeLessThanOrEqual(USERNAME_MAX_LENGTH - 7);
    expect(isStandardUsername(withSuffix)).toBe(true);
  });
});

describe('asciiFold', () => {
  test.each([
    ['àèéìòù', 'aeeiou'],
    ['ÀÈÉÌÒÙ', 'AEEIOU'],
    ['ﬁore', 'fiore'],
    ['Straße', 'Strasse'],
  ])('%j → %j', (input, expected) => {
    expect(asciiFold(input)).toBe(expected);
  });
});

describe('pickUsername', () => {
  test.each<[string, string[], string]>([
    ['none taken', [], 'mario.rossi'],
    ['the base taken', ['mario.rossi'], 'mario.rossi1'],
    ['the base and 1 taken', ['mario.rossi', 'mario.rossi1'], 'mario.rossi2'],
    ['a gap', ['mario.rossi', 'mario.rossi2'], 'mario.rossi1'],
    ['only a suffixed one taken', ['mario.rossi1'], 'mario.rossi'],
    ['taken in another case', ['MARIO.ROSSI'], 'mario.rossi1'],
    ['a longer name sharing the prefix', ['mario.rossini', 'mario.rossi'], 'mario.rossi1'],
    ['many taken', ['mario.rossi', ...Array.from({ length: 11 }, (_, i) => `mario.rossi${i + 1}`)], 'mario.rossi12'],
  ])('%s', (_label, existing, expected) => {
    expect(pickUsername('mario.rossi', existing)).toBe(expected);
  });
});

describe('nextAvailableUsername', () => {
  test('asks candidates in order and returns the first free one', async () => {
    const asked: string[] = [];
    const taken = new Set(['mario.rossi', 'mario.rossi1']);
    const result = await nextAvailableUsername('mario.rossi', (candidate) => {
      asked.push(candidate);
      return taken.has(candidate);
    });
    expect(result).toBe('mario.rossi2');
    expect(asked).toEqual(['mario.rossi', 'mario.rossi1', 'mario.rossi2']);
  });

  test('accepts an asynchronous lookup', async () => {
    await expect(nextAvailableUsername('anna.damico', async (candidate) => candidate === 'anna.damico'))
      .resolves.toBe('anna.damico1');
  });

  test('gives up after maxAttempts', async () => {
    await expect(nextAvailableUsername('mario.rossi', () => true, 5)).rejects.toThrow('username.exhausted');
  });
});

describe('isMiUsername', () => {
  test.each([
    ['MI123456', true],
    ['mi123456', true],
    ['Mi1', true],
    [' MI123456 ', true],
    ['MI', false],
    ['MI12a4', false],
    ['MI 123456', false],
    ['XMI123456', false],
    ['123456', false],
    ['mario.rossi', false],
    ['mi.rossi', false],
  ])('%j → %s', (username, expected) => {
    expect(isMiUsername(username)).toBe(expected);
  });
});

describe('isStandardUsername', () => {
  test.each([
    ['mario.rossi', true],
    ['mario.rossi12', true],
    ['mariagrazia.esposito', true],
    ['mario', false],
    ['Mario.Rossi', false],
    ['mario.rossi.1', false],
    ['.rossi', false],
    ['mario.', false],
    ['mario.1rossi', false],
    ['MI123456', false],
  ])('%j → %s', (username, expected) => {
    expect(isStandardUsername(username)).toBe(expected);
  });
});

describe('normalizeUsername', () => {
  test.each([
    [' mi123456 ', 'MI123456'],
    ['Mario.Rossi', 'mario.rossi'],
    ['mario.rossi1', 'mario.rossi1'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeUsername(input)).toBe(expected);
  });
});

describe('checkLoginUsername', () => {
  test.each([
    ['mario.rossi', 'mario.rossi'],
    [' Mario.Rossi ', 'mario.rossi'],
    ['mi123456', 'MI123456'],
    ['legacy_user-01', 'legacy_user-01'],
    ['a'.repeat(USERNAME_MAX_LENGTH), 'a'.repeat(USERNAME_MAX_LENGTH)],
  ])('accepts %j as %j', (input, username) => {
    expect(checkLoginUsername(input)).toEqual({ ok: true, username });
  });

  test.each([
    ['', 'username.required'],
    ['   ', 'username.required'],
    ['a'.repeat(USERNAME_MAX_LENGTH + 1), 'username.too_long'],
    ['x'.repeat(100_000), 'username.too_long'],
    ['mario rossi', 'username.invalid_characters'],
    ["mario.rossi'--", 'username.invalid_characters'],
    ['mario.rossi@example.it', 'username.invalid_characters'],
    ['niccolò.deluca', 'username.invalid_characters'],
    ['<script>', 'username.invalid_characters'],
    ['mario\u0000rossi', 'username.invalid_characters'],
  ])('rejects %j with %s', (input, problem) => {
    expect(checkLoginUsername(input)).toEqual({ ok: false, problem });
  });
});
