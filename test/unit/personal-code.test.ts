import { newTemporaryCode, personalCodeProblems } from '../../src/enablement/personal-code.js';
import { canMove, nextStep } from '../../src/enablement/states.js';

describe('the personal code rules (DOMAIN.md §7)', () => {
  const born = '1984-03-07';
  it.each([
    ['48151623', []],
    ['9073318265', []],
    ['1234567', ['too_short', 'sequence']],
    ['2468', ['too_short']],
    ['1234 5678', ['not_digits']],
    ['abcdefgh', ['not_digits']],
    ['77777777', ['all_equal']],
    ['12345678', ['sequence']],
    ['98765432', ['sequence']],
    ['78901234', ['sequence']],
    ['07031984', ['birth_date']],
    ['19840307', ['birth_date']],
    ['55070384', ['birth_date']],
  ] as const)('%s → %j', (code, problems) => {
    expect(personalCodeProblems(code, born)).toEqual(problems);
  });

  it('temporary codes are ten random digits', () => {
    const codes = new Set(Array.from({ length: 200 }, newTemporaryCode));
    expect([...codes].every((c) => /^\d{10}$/.test(c))).toBe(true);
    expect(codes.size).toBe(200);
  });
});

describe('the enablement states', () => {
  it('move only along the arrows of the diagram', () => {
    expect(canMove('code_sent', 'awaiting_identification')).toBe(true);
    expect(canMove('awaiting_identification', 'identified')).toBe(true);
    expect(canMove('identified', 'enabled')).toBe(true);
    expect(canMove('code_sent', 'enabled')).toBe(false);
    expect(canMove('awaiting_identification', 'enabled')).toBe(false);
    expect(canMove('revoked', 'code_sent')).toBe(false);
  });

  it('tell the sign-in what is still to do', () => {
    expect([null, 'code_sent', 'awaiting_identification', 'identified', 'enabled', 'revoked'].map((s) => nextStep(s as never)))
      .toEqual(['request', 'temporary_code', 'identification', 'personal_code', null, 'request']);
  });
});
