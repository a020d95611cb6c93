import {
  applyOmocodia,
  checkCharacter,
  computeCodiceFiscale,
  decodeCodiceFiscale,
  decodeOmocodia,
  nameCode,
  surnameCode,
  validateCodiceFiscale,
  type CodiceFiscalePerson,
} from '../../src/accounts/codice-fiscale.js';

const NOW = new Date('2025-06-15T10:00:00Z');

// Check letters below were computed by the algorithm (and cross-checked by an independent
// implementation); RSSMRA85T10A562S is the widely published example.
const mario: CodiceFiscalePerson = { givenName: 'Mario', familyName: 'Rossi', birthDate: '1980-01-01', sex: 'M' };
const MARIO_CF = 'RSSMRA80A01H501U';

const people: Array<[string, CodiceFiscalePerson & { placeCode: string }, string]> = [
  ['Mario Rossi, Roma', { ...mario, placeCode: 'H501' }, 'RSSMRA80A01H501U'],
  ['Mario Rossi, San Giuliano Terme', { ...mario, birthDate: '1985-12-10', placeCode: 'A562' }, 'RSSMRA85T10A562S'],
  ['a woman: day + 40', { ...mario, givenName: 'Maria', sex: 'F', placeCode: 'H501' }, 'RSSMRA80A41H501Y'],
  ['apostrophe in the surname', { givenName: 'Anna', familyName: "D'Amico", birthDate: '1975-06-15', sex: 'F', placeCode: 'F205' }, 'DMCNNA75H55F205H'],
  ['accent, 4 consonants, two-word surname', { givenName: 'Niccolò', familyName: 'De Luca', birthDate: '1990-03-22', sex: 'M', placeCode: 'F205' }, 'DLCNCL90C22F205E'],
  ['short surname padded with X', { givenName: 'Dario', familyName: 'Fo', birthDate: '1926-03-24', sex: 'M', placeCode: 'E734' }, 'FOXDRA26C24E734T'],
  ['given name with 6 consonants', { givenName: 'Gianfranco', familyName: 'Bianchi', birthDate: '1962-09-30', sex: 'M', placeCode: 'L219' }, 'BNCGFR62P30L219M'],
  ['two given names', { givenName: 'Maria Grazia', familyName: 'Esposito', birthDate: '2001-11-05', sex: 'F', placeCode: 'F839' }, 'SPSMGR01S45F839G'],
  ['born abroad, vowels only', { givenName: 'Ugo', familyName: 'Ai', birthDate: '2005-02-28', sex: 'M', placeCode: 'Z404' }, 'AIXGUO05B28Z404K'],
];

describe('computeCodiceFiscale', () => {
  test.each(people)('%s', (_label, person, expected) => {
    expect(computeCodiceFiscale(person)).toBe(expected);
  });

  test.each([
    ['a date that does not exist', { ...mario, birthDate: '1981-02-29', placeCode: 'H501' }, 'cf.birth_date_invalid'],
    ['a date in another format', { ...mario, birthDate: '01/01/1980', placeCode: 'H501' }, 'cf.birth_date_invalid'],
    ['a bad place code', { ...mario, placeCode: 'H50' }, 'cf.place_code_invalid'],
  ])('throws on %s', (_label, person, code) => {
    expect(() => computeCodiceFiscale(person)).toThrow(code);
  });
});

describe('validateCodiceFiscale: each computed CF is valid and matches its person', () => {
  test.each(people)('%s', (_label, person, cf) => {
    const { placeCode, ...identity } = person;
    const result = validateCodiceFiscale(cf, identity, NOW);
    expect(result).toEqual({
      valid: true,
      normalized: cf,
      problems: [],
      decoded: expect.objectContaining({ birthDate: person.birthDate, sex: person.sex, placeCode, omocodic: false }),
    });
  });
});

describe('surnameCode and nameCode', () => {
  test.each([
    ['Rossi', 'RSS'],
    ['Fo', 'FOX'],
    ['Ai', 'AIX'],
    ['O', 'OXX'],
    ['', 'XXX'],
    ["D'Amico", 'DMC'],
    ['De Luca', 'DLC'],
    ["Dell'Acqua", 'DLL'],
    ['Castellano', 'CST'], // a surname never skips consonants
    ['Müller', 'MLL'],
    ['Strauß', 'STR'],
    ['  rossi  ', 'RSS'],
  ])('surname %j → %s', (name, code) => {
    expect(surnameCode(name)).toBe(code);
  });

  test.each([
    ['Mario', 'MRA'],
    ['Anna', 'NNA'],
    ['Ugo', 'GUO'],
    ['Luca', 'LCU'],
    ['Eva', 'VEA'],
    ['Al', 'LAX'],
    ['Gianfranco', 'GFR'], // G N F R N C: 1st, 3rd, 4th
    ['Francesco', 'FNC'],
    ['Giovanni', 'GNN'],
    ['Niccolò', 'NCL'],
    ['Maria Grazia', 'MGR'],
    ['Bjørn', 'BRN'],
    ['Gian-Luca', 'GLC'],
  ])('given name %j → %s', (name, code) => {
    expect(nameCode(name)).toBe(code);
  });
});

describe('structure', () => {
  test.each([
    ['empty', ''],
    ['15 characters', 'RSSMRA80A01H501'],
    ['17 characters', 'RSSMRA80A01H501UX'],
    ['a space inside', 'RSSMRA 80A01H501U'],
    ['a digit among the name letters', 'RSS1RA80A01H501U'],
    ['F is not a month letter', 'RSSMRA80F01H501U'],
    ['W is not an omocodia letter', 'RSSMRA8WA01H501U'],
    ['a digit as the place letter', 'RSSMRA80A011501U'],
    ['a digit as the check character', 'RSSMRA80A01H5011'],
    ['punctuation', 'RSSMRA80A01H501-'],
    ['a business tax number', '01234567890'],
  ])('%s → cf.format only', (_label, cf) => {
    expect(validateCodiceFiscale(cf, mario, NOW)).toEqual({ valid: false, normalized: cf.trim().toUpperCase(), problems: ['cf.format'] });
  });

  test.each([null, undefined, 42])('never throws on %p', (input) => {
    expect(validateCodiceFiscale(input as unknown as string, undefined, NOW).problems).toEqual(['cf.format']);
  });

  test('trims and upper-cases before checking', () => {
    expect(validateCodiceFiscale('  rssmra80a01h501u \n', mario, NOW)).toMatchObject({ valid: true, normalized: MARIO_CF });
  });
});

describe('check character', () => {
  test('computed over the first 15 characters', () => {
    expect(checkCharacter('RSSMRA85T10A562')).toBe('S');
  });

  test.each(['RSSMRA80A01H501X', 'RSSMRA80A01H501A', 'RSSMRA85T10A562U'])('%s → cf.check_character', (cf) => {
    const result = validateCodiceFiscale(cf, undefined, NOW);
    expect(result.valid).toBe(false);
    expect(result.problems).toEqual(['cf.check_character']);
    expect(result.decoded).toBeDefined();
  });

  test('a swap of two characters is caught', () => {
    expect(validateCodiceFiscale('RSSMAR80A01H501U', undefined, NOW).problems).toContain('cf.check_character');
  });
});

describe('omocodia', () => {
  test.each([
    ['RSSMRA80A01H50MM', 1],
    ['RSSMRA80A01HRLMS', 3],
    ['RSSMRAULALMHRLMD', 7],
  ])('%s is Mario Rossi with %i substitutions', (cf, substitutions) => {
    expect(applyOmocodia(MARIO_CF, substitutions)).toBe(cf);
    expect(decodeOmocodia(cf)).toBe(MARIO_CF);
    const result = validateCodiceFiscale(cf, mario, NOW);
    expect(result.problems).toEqual([]);
    expect(result.decoded).toEqual({
      surnameCode: 'RSS', nameCode: 'MRA', birthDate: '1980-01-01', sex: 'M', placeCode: 'H501', omocodic: true,
    });
  });

  test.each(people.flatMap(([label, person, cf]) => [1, 2, 3, 4, 5, 6, 7].map((n) => [label, n, person, cf] as const)))(
    '%s with %i substitutions stays valid and decodes the same',
    (_label, substitutions, person, cf) => {
      const { placeCode, ...identity } = person;
      const result = validateCodiceFiscale(applyOmocodia(cf, substitutions), identity, NOW);
      expect(result.problems).toEqual([]);
      expect(result.decoded).toMatchObject({ birthDate: person.birthDate, sex: person.sex, placeCode, omocodic: true });
    },
  );

  test.each(['RSSMRA80A01H50MU', 'RSSMRA80A01HRLMD', 'RSSMRAULALMHRLMS'])('%s has the check letter of another variant', (cf) => {
    expect(validateCodiceFiscale(cf, mario, NOW).problems).toEqual(['cf.check_character']);
  });

  test('a substitution that is not right-most is still read', () => {
    const cf = 'RSSMRAU0A01H501' + checkCharacter('RSSMRAU0A01H501');
    expect(validateCodiceFiscale(cf, mario, NOW).problems).toEqual([]);
  });
});

describe('birth date, sex and place', () => {
  test.each([
    ['this century', 'AIXGUO05B28Z404K', NOW, '2005-02-28'],
    ['last century', 'FOXDRA26C24E734T', NOW, '1926-03-24'],
    ['the same digits after that date came around', 'FOXDRA26C24E734T', new Date('2026-03-24T00:00:00Z'), '2026-03-24'],
    ['the day before it comes around', 'FOXDRA26C24E734T', new Date('2026-03-23T23:59:59Z'), '1926-03-24'],
  ])('century: %s', (_label, cf, now, birthDate) => {
    expect(decodeCodiceFiscale(cf, now)?.birthDate).toBe(birthDate);
  });

  test('a woman: day above 40', () => {
    expect(decodeCodiceFiscale('RSSMRA80A41H501Y', NOW)).toMatchObject({ sex: 'F', birthDate: '1980-01-01', placeCode: 'H501' });
  });

  test.each([
    ['30 February', 'RSSMRA80B30H501'],
    ['day 00', 'RSSMRA80A00H501'],
    ['day 32', 'RSSMRA80A32H501'],
    ['day 40', 'RSSMRA80A40H501'],
    ['day 72 (a woman on the 32nd)', 'RSSMRA80A72H501'],
    ['29 February of a common year', 'RSSMRA81B29H501'],
  ])('%s → cf.birth_date_invalid, names still compared', (_label, first15) => {
    const result = validateCodiceFiscale(first15 + checkCharacter(first15), { ...mario, givenName: 'Luigi' }, NOW);
    expect(result.problems).toEqual(['cf.birth_date_invalid', 'cf.name_mismatch']);
    expect(result.decoded).toBeUndefined();
  });

  test('29 February 2000 exists, but not as 1900 before that day', () => {
    const cf = computeCodiceFiscale({ ...mario, birthDate: '2000-02-29', placeCode: 'H501' });
    expect(decodeCodiceFiscale(cf, NOW)?.birthDate).toBe('2000-02-29');
    expect(decodeCodiceFiscale(cf, new Date('2000-02-28T12:00:00Z'))).toBeNull();
  });
});

describe('consistency with the person', () => {
  test.each<[string, Partial<CodiceFiscalePerson>, string[]]>([
    ['family name', { familyName: 'Bianchi' }, ['cf.surname_mismatch']],
    ['given name', { givenName: 'Marco' }, ['cf.name_mismatch']],
    ['birth day', { birthDate: '1980-01-02' }, ['cf.birth_date_mismatch']],
    ['birth month', { birthDate: '1980-02-01' }, ['cf.birth_date_mismatch']],
    ['birth year', { birthDate: '1981-01-01' }, ['cf.birth_date_mismatch']],
    ['a malformed birth date', { birthDate: '01/01/1980' }, ['cf.birth_date_mismatch']],
    ['sex', { sex: 'F' }, ['cf.sex_mismatch']],
    ['everything', { givenName: 'Marco', familyName: 'Bianchi', birthDate: '1979-01-01', sex: 'F' },
      ['cf.surname_mismatch', 'cf.name_mismatch', 'cf.birth_date_mismatch', 'cf.sex_mismatch']],
  ])('a different %s', (_label, change, problems) => {
    expect(validateCodiceFiscale(MARIO_CF, { ...mario, ...change }, NOW)).toMatchObject({ valid: false, problems });
  });

  test.each<[string, Partial<CodiceFiscalePerson>]>([
    ['case and spaces in names', { givenName: '  MARIO ', familyName: 'rossi' }],
    ['the century is not encoded', { birthDate: '1880-01-01' }],
  ])('no mismatch for %s', (_label, change) => {
    expect(validateCodiceFiscale(MARIO_CF, { ...mario, ...change }, NOW).problems).toEqual([]);
  });

  test('accents and apostrophes do not matter', () => {
    const person: CodiceFiscalePerson = { givenName: 'Niccolo', familyName: 'DeLuca', birthDate: '1990-03-22', sex: 'M' };
    expect(validateCodiceFiscale('DLCNCL90C22F205E', person, NOW).problems).toEqual([]);
  });

  test('a wrong check character is listed with the mismatches', () => {
    expect(validateCodiceFiscale('RSSMRA80A01H501X', { ...mario, sex: 'F' }, NOW).problems)
      .toEqual(['cf.check_character', 'cf.sex_mismatch']);
  });

  test('an omocodic CF is compared on its decoded digits', () => {
    expect(validateCodiceFiscale('RSSMRAULALMHRLMD', { ...mario, birthDate: '1980-01-02' }, NOW).problems)
      .toEqual(['cf.birth_date_mismatch']);
  });
});
