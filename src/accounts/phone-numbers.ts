import { createRequire } from 'node:module';
import type { parsePhoneNumberFromString as Parse } from 'libphonenumber-js/max';

// its CommonJS build: the ES one imports its metadata JSON without an import attribute, which
// Jest warns about on every load
const { parsePhoneNumberFromString } = createRequire(import.meta.url)('libphonenumber-js/max') as { parsePhoneNumberFromString: typeof Parse };

export type PhoneKind = 'mobile' | 'landline';

/**
 * A phone number as typed ("333 123 4567", "+39 06 1234567", "0039…") in E.164, or null when
 * it is not a number that can be dialled. Without a country prefix the number is read as
 * Italian. The full metadata ('max') tells a mobile from a landline; a number the plan
 * does not tell apart (FIXED_LINE_OR_MOBILE, common abroad) passes as either.
 */
export function toE164(typed: string, kind: PhoneKind): string | null {
  const cleaned = typed.trim().replace(/^00/, '+');
  if (!cleaned || cleaned.length > 24) return null;
  const number = parsePhoneNumberFromString(cleaned, 'IT');
  if (!number?.isValid()) return null;
  const type = number.getType();
  const fits = kind === 'mobile'
    ? type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE' || type === undefined
    : type !== 'MOBILE';
  return fits ? number.number : null;
}

/** E.164 written the way people read it: "+39 333 123 4567". */
export function formatPhone(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
