import { resolveBirthPlace } from '../../src/registration/places.js';

const born = new Date('1980-05-20T12:00:00Z');

describe('birth places (the package list of comuni and foreign countries)', () => {
  test('a comune with its province gives its cadastral code', async () => {
    expect(await resolveBirthPlace({ kind: 'italy', comune: 'Roma', province: 'rm' }, born)).toEqual({ code: 'H501', label: 'ROMA (RM)', foreign: false });
    expect((await resolveBirthPlace({ kind: 'italy', comune: '  milano ', province: 'MI' }, born))?.code).toBe('F205');
  });

  test('a foreign country gives its Z code', async () => {
    expect(await resolveBirthPlace({ kind: 'abroad', country: 'Francia' }, born)).toEqual({ code: 'Z110', label: 'FRANCIA', foreign: true });
  });

  test('unknown names, wrong provinces and countries typed as comuni are refused', async () => {
    expect(await resolveBirthPlace({ kind: 'italy', comune: 'Nonesiste', province: 'RM' }, born)).toBeNull();
    expect(await resolveBirthPlace({ kind: 'italy', comune: 'Roma', province: 'MI' }, born)).toBeNull();
    expect(await resolveBirthPlace({ kind: 'italy', comune: 'Francia', province: 'EE' }, born)).toBeNull();
    expect(await resolveBirthPlace({ kind: 'italy', comune: 'Roma', province: 'R1' }, born)).toBeNull();
    expect(await resolveBirthPlace({ kind: 'abroad', country: 'Atlantide' }, born)).toBeNull();
    expect(await resolveBirthPlace({ kind: 'abroad', country: 'Roma' }, born)).toBeNull();
  });
});
