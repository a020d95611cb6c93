import { belfioreConnector as belfiore } from '@marketto/belfiore-connector-embedded';

// Birth places and their cadastral (Belfiore) codes, from the lists that
// @marketto/belfiore-connector-embedded ships (MIT; comuni from the Ministero dell'Interno's
// ANPR archive, foreign countries from ISTAT). Places are looked up as they were on the birth
// date: comuni since merged or renamed are where people were born. Not a hand-typed table.

export interface BirthPlace {
  /** Belfiore code: a letter and three digits; Z… for a foreign country */
  code: string;
  /** as typed, tidied: "Roma (RM)", "Francia" */
  label: string;
  foreign: boolean;
}

export type BirthPlaceInput =
  | { kind: 'italy'; comune: string; province: string }
  | { kind: 'abroad'; country: string };

/** The place on the birth date, or null when the list has no such comune (in that province) or country. */
export async function resolveBirthPlace(input: BirthPlaceInput, birthDate: Date): Promise<BirthPlace | null> {
  const places = belfiore.active(birthDate);
  if (input.kind === 'abroad') {
    const country = tidy(input.country);
    const found = country ? await places.countries?.findByName(country) : null;
    return found && valid(found.belfioreCode) ? { code: found.belfioreCode, label: country, foreign: true } : null;
  }
  const comune = tidy(input.comune);
  const province = input.province.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(province) || !comune) return null;
  const found = await places.cities?.byProvince(province)?.findByName(comune);
  return found && valid(found.belfioreCode) ? { code: found.belfioreCode, label: `${comune} (${province})`, foreign: false } : null;
}

const valid = (code: unknown): code is string => typeof code === 'string' && /^[A-Z]\d{3}$/.test(code);

function tidy(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toUpperCase();
}
