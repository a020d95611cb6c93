import { z } from 'zod';
import { contactDataOf, type Account, type ContactData } from '../accounts/account.js';
import { createAccountRepository } from '../accounts/repository.js';
import { formatPhone, toE164 } from '../accounts/phone-numbers.js';
import { ITALY, findComune, isCountry, isProvince } from '../accounts/residence.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../db/index.js';
import { t, type MessageKey } from '../i18n/index.js';

/** Variazione dati di recapito (DOMAIN.md §3): what the form sends, as typed. */
export const CONTACT_FIELDS = ['mobile', 'home_phone', 'street', 'postal_code', 'country', 'province', 'comune'] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];
export type ContactForm = Record<ContactField, string>;

const text = (max: number) => z.string().trim().max(max).catch('');
const formSchema = z.object(Object.fromEntries(CONTACT_FIELDS.map((f) => [f, text(f === 'street' ? 200 : 80)])) as Record<ContactField, ReturnType<typeof text>>);

export function contactFormOf(account: Account): ContactForm {
  return {
    mobile: account.mobilePhone ? formatPhone(account.mobilePhone) : '',
    home_phone: account.homePhone ? formatPhone(account.homePhone) : '',
    street: account.address.street ?? '',
    postal_code: account.address.postalCode ?? '',
    country: account.address.country ?? '',
    province: account.address.province ?? '',
    comune: account.address.municipality ?? '',
  };
}

export type ContactCheck =
  | { ok: true; data: ContactData }
  | { ok: false; form: ContactForm; errors: Partial<Record<ContactField, string>> };

/**
 * Every field may be left empty (it is then removed). A phone must be one that can be dialled
 * (the mobile a mobile); an address abroad names its country and locality; in Italy the comune
 * must be one of ISTAT's list in the province chosen, and the postcode (CAP) five digits.
 */
export function checkContactForm(body: Record<string, unknown>): ContactCheck {
  const form = formSchema.parse(Object.fromEntries(CONTACT_FIELDS.map((f) => [f, typeof body[f] === 'string' ? body[f] : '']))) as ContactForm;
  form.country = form.country.toUpperCase();
  form.province = form.province.toUpperCase();
  const errors: Partial<Record<ContactField, string>> = {};
  const refuse = (field: ContactField, key: MessageKey) => { errors[field] ??= t(key); };

  const mobile = form.mobile ? toE164(form.mobile, 'mobile') : null;
  if (form.mobile && !mobile) refuse('mobile', 'area.contacts.error.mobile');
  const homePhone = form.home_phone ? toE164(form.home_phone, 'landline') : null;
  if (form.home_phone && !homePhone) refuse('home_phone', 'area.contacts.error.home_phone');

  const anyAddress = Boolean(form.street || form.postal_code || form.province || form.comune);
  if (form.country && !isCountry(form.country)) refuse('country', 'area.contacts.error.country');
  if (anyAddress && !form.country) refuse('country', 'area.contacts.error.country_missing');

  let municipality: string | null = form.comune || null;
  if (form.country === ITALY) {
    if (form.province && !isProvince(form.province)) refuse('province', 'area.contacts.error.province');
    if (anyAddress && !form.province) refuse('province', 'area.contacts.error.province_missing');
    if (anyAddress && !form.comune) refuse('comune', 'area.contacts.error.comune_missing');
    if (form.comune && isProvince(form.province)) {
      const comune = findComune(form.province, form.comune);
      if (comune) municipality = comune.name;
      else refuse('comune', 'area.contacts.error.comune');
    }
    if (form.postal_code && !/^\d{5}$/.test(form.postal_code)) refuse('postal_code', 'area.contacts.error.postal_code');
  } else if (form.country) {
    if (form.province) refuse('province', 'area.contacts.error.province_abroad');
    if (anyAddress && !form.comune) refuse('comune', 'area.contacts.error.locality_missing');
  }
  if (anyAddress && !form.street) refuse('street', 'area.contacts.error.street_missing');

  if (Object.keys(errors).length) return { ok: false, form, errors };
  return {
    ok: true,
    data: {
      mobilePhone: mobile,
      homePhone,
      street: form.street || null,
      postalCode: form.postal_code || null,
      country: form.country || null,
      province: form.country === ITALY ? form.province || null : null,
      municipality,
    },
  };
}

/**
 * Stores the contact data with an audit entry naming each field changed, before and after,
 * in one transaction; the row is locked first so two saves at once are told apart in the log.
 * Returns the fields that changed (none: nothing stored, nothing logged).
 */
export function createContactDataChange(deps: { db: Db; audit: AuditLog }) {
  return async function changeContactData(accountId: string, data: ContactData, from: { ip: string; userAgent?: string }): Promise<Array<keyof ContactData> | undefined> {
    return deps.db.transaction().execute(async (trx) => {
      const accounts = createAccountRepository(trx);
      const account = await accounts.findForUpdate(accountId);
      if (!account) return undefined;
      const before = contactDataOf(account);
      const changed = (Object.keys(data) as Array<keyof ContactData>).filter((k) => before[k] !== data[k]);
      if (changed.length === 0) return changed;
      await accounts.setContactData(accountId, data);
      await deps.audit.record({
        actorKind: 'user',
        actorId: accountId,
        subjectId: accountId,
        action: 'account.contact_data_changed',
        outcome: 'success',
        ip: from.ip,
        userAgent: from.userAgent,
        details: {
          before: Object.fromEntries(changed.map((k) => [k, before[k]])),
          after: Object.fromEntries(changed.map((k) => [k, data[k]])),
        },
      }, trx);
      return changed;
    });
  };
}

export type ChangeContactData = ReturnType<typeof createContactDataChange>;
