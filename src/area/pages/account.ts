import type { Context } from 'koa';
import { referenceEmail, type PostalAddress } from '../../accounts/account.js';
import { formatPhone } from '../../accounts/phone-numbers.js';
import { COUNTRIES, PROVINCES, countryName, ITALY } from '../../accounts/residence.js';
import { t } from '../../i18n/index.js';
import { formatDateTime } from '../../mail/templates.js';
import { checkContactForm, contactFormOf, type ContactForm } from '../contact-data.js';
import { EMAIL_CODE_MINUTES, personalEmail } from '../email-change.js';
import { EMAIL_PAGE, type AreaKit } from '../router.js';

/** I tuoi dati, Recapiti (Variazione dati di recapito), the personal e-mail change. */
export function accountPages(kit: AreaKit): void {
  const { router, deps, now, post, from, person, render, requireSignedIn, requireFresh, toSignIn } = kit;

  router.get('/', requireSignedIn, async (ctx) => {
    const account = person(ctx).account;
    const reference = referenceEmail(account);
    return render(ctx, 'home', 200, {
      title: t('area.title'),
      me: {
        name: `${account.givenName} ${account.familyName}`,
        fiscalCode: account.fiscalCode,
        birth: t('area.home.birth_value', { date: account.birthDate.split('-').reverse().join('/'), place: account.birthPlace }),
        sex: account.sex,
        username: account.username,
        type: t(account.type === 'mi' ? 'officer.card.type.mi' : 'officer.card.type.standard'),
        institutionalEmail: account.institutionalEmail,
        mailboxState: account.mailboxState,
        personalEmail: account.personalEmail,
        reference: reference?.address === account.institutionalEmail ? 'institutional' : reference ? 'personal' : null,
        passwordExpires: account.passwordExpiresAt ? formatDateTime(account.passwordExpiresAt) : null,
        mobile: account.mobilePhone && formatPhone(account.mobilePhone),
        homePhone: account.homePhone && formatPhone(account.homePhone),
        residence: residenceLine(account.address),
      },
    });
  });

  const contactsPage = (ctx: Context, status: number, form: ContactForm, errors: Partial<Record<string, string>> | null, notice: string | null = null) =>
    render(ctx, 'contacts', status, {
      title: t('area.contacts.title'),
      form,
      countries: COUNTRIES,
      provinces: PROVINCES,
      notice,
      errors: errors ? { summary: Object.values(errors), fields: errors } : null,
    });

  router.get('/recapiti', requireSignedIn, (ctx) => contactsPage(ctx, 200, contactFormOf(person(ctx).account), null));

  router.post('/recapiti', requireSignedIn, ...post, async (ctx) => {
    const check = checkContactForm((ctx.request.body ?? {}) as Record<string, unknown>);
    if (!check.ok) return contactsPage(ctx, 400, check.form, check.errors);
    const changed = await deps.changeContactData(person(ctx).account.id, check.data, from(ctx));
    if (!changed) return toSignIn(ctx, {});
    const account = { ...person(ctx).account, mobilePhone: check.data.mobilePhone, homePhone: check.data.homePhone, address: { street: check.data.street, postalCode: check.data.postalCode, country: check.data.country, province: check.data.province, municipality: check.data.municipality } };
    return contactsPage(ctx, 200, contactFormOf(account), null, t(changed.length ? 'area.contacts.saved' : 'area.contacts.unchanged'));
  });

  const emailPage = (ctx: Context, status: number, value: string, error: string | null = null, notice: string | null = null) => {
    const account = person(ctx).account;
    return render(ctx, 'email', status, {
      title: t('area.email.title'),
      current: account.personalEmail,
      institutional: account.institutionalEmail,
      value,
      notice,
      errors: error ? { summary: [error], fields: { email: error } } : null,
    });
  };

  const codePage = async (ctx: Context, status: number, error: string | null = null, notice: string | null = null) => {
    const pending = await deps.emailChange.pending(person(ctx).account.id);
    if (!pending) return ctx.redirect(EMAIL_PAGE);
    return render(ctx, 'email-code', status, {
      title: t('area.email.code_title'),
      pending,
      minutes: EMAIL_CODE_MINUTES,
      notice,
      errors: error ? { summary: [error], fields: { code: error } } : null,
    });
  };

  router.get('/email', requireSignedIn, requireFresh, (ctx) => emailPage(ctx, 200, ''));

  router.post('/email', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const typed = String((ctx.request.body as Record<string, unknown>).email ?? '').slice(0, 320);
    const parsed = personalEmail.safeParse(typed);
    if (!parsed.success) {
      const institutional = parsed.error.issues.some((issue) => issue.message === 'institutional');
      return emailPage(ctx, 400, typed, t(institutional ? 'area.email.error.institutional' : 'area.email.error.invalid'));
    }
    const resend = (await deps.emailChange.pending(person(ctx).account.id))?.newEmail === parsed.data;
    const outcome = await deps.emailChange.request(person(ctx).account, parsed.data, from(ctx));
    if (outcome.ok) {
      if (resend) return codePage(ctx, 200, null, t('area.email.resent'));
      ctx.status = 303;
      return ctx.redirect(`${EMAIL_PAGE}/codice`);
    }
    const seconds = outcome.retryAfterSeconds ?? 60;
    const message = outcome.problem === 'same_address' ? t('area.email.error.same')
      : outcome.problem === 'too_soon' ? t('area.email.error.too_soon', { seconds })
      : t('area.email.error.throttled', { minutes: Math.ceil(seconds / 60) });
    return emailPage(ctx, outcome.problem === 'same_address' ? 400 : 429, typed, message);
  });

  router.get('/email/codice', requireSignedIn, requireFresh, (ctx) => codePage(ctx, 200));

  router.post('/email/codice', requireSignedIn, requireFresh, ...post, async (ctx) => {
    const code = String((ctx.request.body as Record<string, unknown>).code ?? '').replace(/\s+/g, '').slice(0, 12);
    if (!/^\d{6}$/.test(code)) return codePage(ctx, 400, t(code ? 'area.email.error.code_format' : 'form.field_required'));
    const check = await deps.emailChange.confirm(person(ctx).account, code, from(ctx));
    if (check.ok) {
      ctx.state.person = { ...person(ctx), account: check.account };
      return emailPage(ctx, 200, '', null, t('area.email.changed', { address: check.account.personalEmail ?? '' }));
    }
    if (check.problem === 'missing') return emailPage(ctx, 409, '', t('area.email.error.expired'));
    if (check.problem === 'wrong') return codePage(ctx, 422, t('area.email.error.wrong', { tries: check.triesLeft }));
    return emailPage(ctx, 422, '', t(check.problem === 'expired' ? 'area.email.error.expired' : 'area.email.error.exhausted'));
  });
}


/** "Via Roma 1, 00100 Roma (RM), Italia" */
function residenceLine(a: PostalAddress): string {
  const place = [a.postalCode, a.municipality && (a.province && a.country === ITALY ? `${a.municipality} (${a.province})` : a.municipality)].filter(Boolean).join(' ');
  return [a.street, place, a.country && (countryName(a.country) ?? a.country)].filter(Boolean).join(', ');
}

