import { ACR } from '../../accounts/acr.js';
import type { MessageKey, Translate } from '../../i18n/index.js';
import type { GateFacts } from '../facts.js';
import type { Gate, GateInput, GatePage } from './gate.js';

const withoutOtp = (facts: GateFacts) => !(facts.session.amr ?? []).includes('otp');

/**
 * DOMAIN.md §5 gate 3: a one-time code after the password, for every security officer, for
 * everyone who has enrolled, and whenever the service asks (acr_values or its requiredAcr).
 * Once done, the SSO session says so (acr, amr) and the gate stays quiet for its other
 * services. An officer without a factor enrols here, inside the sign-in.
 */
export const secondFactor: Gate = {
  name: 'second_factor',
  checks: [
    {
      reason: 'officer_profile',
      description: 'the account holds a security officer profile',
      error: 'interaction_required',
      applies: (facts) => facts.secondFactor.officer && withoutOtp(facts),
    },
    {
      reason: 'second_factor_enrolled',
      description: 'the account has a second factor',
      error: 'interaction_required',
      applies: (facts) => facts.secondFactor.enrolled && withoutOtp(facts),
    },
    {
      reason: 'acr_requested',
      description: 'the service asks for two factors',
      error: 'interaction_required',
      applies: (facts) => (facts.requestedAcr.includes(ACR.otp) || facts.service.requiredAcr === ACR.otp) && withoutOtp(facts),
    },
  ],
  async show(input) {
    return page(input, 200);
  },
  async submit(input) {
    const { facts, form, services, from, t } = input;
    const code = typeof form.code === 'string' ? form.code.slice(0, 64) : '';
    if (!code.trim()) return page(input, 400, t('form.field_required'));
    const check = facts.secondFactor.enrolled
      ? await services.secondFactor.verify(facts.account.id, code, from)
      : await services.secondFactor.confirm(facts.account.id, code, from);
    if (check.ok) return { authenticated: { acr: ACR.otp, amr: ['pwd', 'otp'] } };
    if (check.reason === 'throttled') return page(input, 429, t('gate.second_factor.throttled', { minutes: Math.ceil(check.retryAfterSeconds / 60) }));
    return page(input, 422, t('gate.second_factor.wrong_code'));
  },
};

async function page(input: GateInput, status: number, error?: string): Promise<GatePage> {
  const { facts, reasons, t, services } = input;
  if (!services) throw new Error('the second_factor gate needs its service');
  const why = reasons.find((r) => r !== 'second_factor_enrolled') ?? 'second_factor_enrolled';
  const locals = {
    message: t(`gate.second_factor.${why}` as MessageKey),
    errors: error ? { summary: [error], fields: { code: error } } : null,
  };
  if (facts.secondFactor.enrolled) {
    return { view: 'gates/second-factor', status, locals: { ...locals, title: t('gate.second_factor.title'), enrolment: null } };
  }
  const enrolment = await services.secondFactor.enrolment(facts.account);
  return { view: 'gates/second-factor', status, locals: { ...locals, title: t('gate.second_factor.enrol_title'), enrolment: enrolmentLocals(enrolment, t) } };
}

function enrolmentLocals(enrolment: Awaited<ReturnType<NonNullable<GateInput['services']>['secondFactor']['enrolment']>>, t: Translate) {
  return {
    qrSvg: enrolment.qrSvg,
    // grouped by four, as authenticator apps show keys typed by hand
    secret: enrolment.secret.replace(/(.{4})/g, '$1 ').trim(),
    recoveryCodes: enrolment.recoveryCodes,
    intro: t('gate.second_factor.enrol_intro'),
  };
}
