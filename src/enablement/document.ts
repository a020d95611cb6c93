import { z } from 'zod';

/** The identity documents accepted at a school or office (the Istanze OnLine guide's list). */
export const DOCUMENT_TYPES = ['carta_identita', 'passaporto', 'patente', 'tessera_amministrazione'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export interface IdentityDocument {
  type: DocumentType;
  /** upper case, no spaces */
  number: string;
  issuer: string;
  /** 'YYYY-MM-DD' */
  expiry: string;
}

export type DocumentField = 'type' | 'number' | 'issuer' | 'expiry' | 'contacts';

/** dd/mm/yyyy or yyyy-mm-dd → yyyy-mm-dd, or null when it is no calendar day. */
function isoDay(typed: string): string | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(typed) ?? null;
  const [y, mo, d] = m ? [m[3], m[2], m[1]] : (/^(\d{4})-(\d{2})-(\d{2})$/.exec(typed) ?? []).slice(1);
  if (!y || !mo || !d) return null;
  const iso = `${y}-${mo.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso ? null : iso;
}

/**
 * The enablement form: the document's type from the list, its number (letters and digits,
 * 5 to 20), who issued it, an expiry not passed; and the contact data confirmed. Each
 * problem is named by its field (message keys of the catalogue).
 */
export function checkDocumentForm(body: Record<string, unknown>, today: string):
  | { ok: true; document: IdentityDocument }
  | { ok: false; values: Record<string, string>; errors: Partial<Record<DocumentField, 'enablement.error.type' | 'enablement.error.number' | 'enablement.error.issuer' | 'enablement.error.expiry' | 'enablement.error.expired' | 'enablement.error.contacts'>> } {
  const text = (name: string, max: number) => (typeof body[name] === 'string' ? (body[name] as string).trim().slice(0, max) : '');
  const values = { type: text('type', 40), number: text('number', 40), issuer: text('issuer', 120), expiry: text('expiry', 20), contacts: text('contacts', 4) };
  const errors: Partial<Record<DocumentField, 'enablement.error.type' | 'enablement.error.number' | 'enablement.error.issuer' | 'enablement.error.expiry' | 'enablement.error.expired' | 'enablement.error.contacts'>> = {};
  if (!(DOCUMENT_TYPES as readonly string[]).includes(values.type)) errors.type = 'enablement.error.type';
  const number = values.number.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z0-9]{5,20}$/.test(number)) errors.number = 'enablement.error.number';
  if (values.issuer.length < 2) errors.issuer = 'enablement.error.issuer';
  const expiry = isoDay(values.expiry);
  if (!expiry) errors.expiry = 'enablement.error.expiry';
  else if (expiry < today) errors.expiry = 'enablement.error.expired';
  if (values.contacts !== 'si') errors.contacts = 'enablement.error.contacts';
  if (Object.keys(errors).length) return { ok: false, values, errors };
  return { ok: true, document: { type: values.type as DocumentType, number, issuer: values.issuer, expiry: expiry! } };
}
