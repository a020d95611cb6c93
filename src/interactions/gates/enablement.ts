import { referenceEmail } from '../../accounts/account.js';
import { formatPhone } from '../../accounts/phone-numbers.js';
import { checkDocumentForm, DOCUMENT_TYPES } from '../../enablement/document.js';
import { nextStep, type EnablementStep } from '../../enablement/states.js';
import type { Enablement } from '../../enablement/repository.js';
import type { Translate } from '../../i18n/index.js';
import type { GateFacts } from '../facts.js';
import type { Gate, GateInput, GatePage } from './gate.js';
import { ACR } from '../../accounts/acr.js';

/** A personal code confirmed this long ago still answers a step-up (the redirect back takes a moment). */
const STEP_UP_SECONDS = 120;

/**
 * The step-up: an enabled person, a service asking for the personal-code acr, and no personal
 * code confirmed in this session within STEP_UP_SECONDS — asked even inside a session.
 */
const wantsPersonalCode = (facts: GateFacts) =>
  facts.requestedAcr.includes(ACR.personalCode)
  && !(facts.session.acr === ACR.personalCode && facts.now.getTime() / 1000 - (facts.session.loginTs ?? 0) <= STEP_UP_SECONDS);

type Step = EnablementStep | 'confirm_personal_code';

const stepOf = (facts: GateFacts): Step | null => {
  if (!facts.service.enablementRequired) return null;
  const step = nextStep(facts.enablement?.state ?? null);
  if (step === null && wantsPersonalCode(facts)) return 'confirm_personal_code';
  return step;
};

/**
 * DOMAIN.md §7: a service flagged `enablementRequired` opens only to people enabled for it.
 * Until then every sign-in to it stops here, at the step the request is at (states.ts):
 * the form (document, contacts confirmed), the temporary personal code, or what to do to be
 * identified at a school or office. The request is the gate's own persisted flow; the gate
 * clears when the request reaches `enabled`. Other services are not affected.
 */
export const enablement: Gate = {
  name: 'enablement',
  checks: ([
    ['request', 'enablement_request', 'the service needs enablement and there is no request'],
    ['temporary_code', 'enablement_temporary_code', 'the temporary personal code has not been entered'],
    ['identification', 'enablement_identification', 'the request waits for identification at a school or office'],
    ['personal_code', 'enablement_personal_code', 'the temporary personal code must be replaced'],
    ['recovery', 'enablement_recovery', 'a new temporary personal code was asked for and must be replaced'],
    ['confirm_personal_code', 'personal_code_requested', 'the service asks for the personal code (step-up)'],
  ] as const).map(([step, reason, description]) => ({
    reason,
    description,
    error: 'interaction_required',
    applies: (facts: GateFacts) => stepOf(facts) === step,
  })),
  show(input) {
    return page(input, 200);
  },
  async submit(input) {
    const { facts, form, services, from, t } = input;
    const service = { id: facts.service.id, name: facts.service.name };
    const step = stepOf(facts);
    if (step === null) return 'cleared';
    const asked = typeof form.step === 'string' ? form.step : '';
    // a form of a step the request has left (sent twice, another tab): the current step
    if (asked !== step && !(asked === 'new_code' && step === 'temporary_code')) return page(input, 409, { notice: t('enablement.stale') });

    if (step === 'request') {
      const check = checkDocumentForm(form, facts.now.toISOString().slice(0, 10));
      if (!check.ok) {
        const fields = Object.fromEntries(Object.entries(check.errors).map(([field, key]) => [field, t(key)]));
        return page(input, 400, { values: check.values, errors: { summary: Object.values(fields), fields } });
      }
      const created = await services.enablement.request(facts.account, service, check.document, from);
      return page(withEnablement(input, created ?? (await services.enablement.status(facts.account.id, service.id))), created ? 200 : 409);
    }
    if (step === 'temporary_code') {
      if (asked === 'new_code') {
        const sent = await services.enablement.resendTemporaryCode(facts.account, service, from);
        if (!sent.ok && sent.problem === 'throttled') return page(input, 429, { error: t('enablement.code.throttled', { minutes: Math.ceil(sent.retryAfterSeconds / 60) }) });
        return page(withEnablement(input, await services.enablement.status(facts.account.id, service.id)), 200, { notice: t('enablement.code.resent') });
      }
      const code = typeof form.code === 'string' ? form.code.replace(/\s+/g, '') : '';
      if (!/^\d{10}$/.test(code)) return page(input, 400, { error: t(code ? 'enablement.code.format' : 'form.field_required') });
      const check = await services.enablement.confirmTemporaryCode(facts.account, service.id, code, from);
      if (check.ok) return page(withEnablement(input, check.enablement), 200);
      if (check.problem === 'wrong') return page(input, 422, { error: t('enablement.code.wrong', { tries: check.triesLeft }) });
      if (check.problem === 'stale') return page(withEnablement(input, await services.enablement.status(facts.account.id, service.id)), 409, { notice: t('enablement.stale') });
      return page(input, 422, { error: t(check.problem === 'expired' ? 'enablement.code.expired' : 'enablement.code.exhausted') });
    }
    if (step === 'personal_code') {
      const code = typeof form.code === 'string' ? form.code.trim() : '';
      const confirm = typeof form.confirm === 'string' ? form.confirm.trim() : '';
      const fields: Record<string, string> = {};
      if (!code) fields.code = t('form.field_required');
      if (!confirm) fields.confirm = t('form.field_required');
      else if (code && confirm !== code) fields.confirm = t('enablement.personal.mismatch');
      if (!fields.code && !fields.confirm) {
        const outcome = await services.enablement.setPersonalCode(facts.account, service.id, code, from);
        if (outcome.ok) return 'cleared';
        if (outcome.problem === 'stale') return page(withEnablement(input, await services.enablement.status(facts.account.id, service.id)), 409, { notice: t('enablement.stale') });
        fields.code = outcome.problems.map((p) => t(`enablement.personal.${p}`)).join(' ');
      }
      return page(input, fields.code && !fields.confirm && code ? 422 : 400, { errors: { summary: Object.values(fields), fields } });
    }
    if (step === 'confirm_personal_code') {
      const code = typeof form.code === 'string' ? form.code.trim().slice(0, 32) : '';
      if (!code) return page(input, 400, { error: t('form.field_required') });
      const check = await services.enablement.verifyPersonalCode(facts.account, service.id, code, from);
      if (check.ok) {
        const amr = [...new Set([...(facts.session.amr ?? ['pwd']), 'pin'])];
        return { authenticated: { acr: ACR.personalCode, amr } };
      }
      if (check.problem === 'throttled') return page(input, 429, { error: t('enablement.code.throttled', { minutes: Math.ceil(check.retryAfterSeconds / 60) }) });
      if (check.problem === 'stale') return page(withEnablement(input, await services.enablement.status(facts.account.id, service.id)), 409, { notice: t('enablement.stale') });
      return page(input, 422, { error: t('enablement.step_up.wrong') });
    }
    if (step === 'recovery') {
      const temporary = typeof form.temporary === 'string' ? form.temporary.replace(/\s+/g, '') : '';
      const code = typeof form.code === 'string' ? form.code.trim() : '';
      const confirm = typeof form.confirm === 'string' ? form.confirm.trim() : '';
      const fields: Record<string, string> = {};
      if (!/^\d{10}$/.test(temporary)) fields.temporary = t(temporary ? 'enablement.code.format' : 'form.field_required');
      if (!code) fields.code = t('form.field_required');
      if (!confirm) fields.confirm = t('form.field_required');
      else if (code && confirm !== code) fields.confirm = t('enablement.personal.mismatch');
      if (Object.keys(fields).length) return page(input, 400, { errors: { summary: Object.values(fields), fields } });
      const outcome = await services.enablement.completeRecovery(facts.account, service.id, { temporaryCode: temporary, personalCode: code }, from);
      if (outcome.ok) return 'cleared';
      if (outcome.problem === 'stale') return page(withEnablement(input, await services.enablement.status(facts.account.id, service.id)), 409, { notice: t('enablement.stale') });
      const message = outcome.problem === 'weak' ? outcome.problems.map((p) => t(`enablement.personal.${p}`)).join(' ')
        : outcome.problem === 'wrong' ? t('enablement.code.wrong', { tries: outcome.triesLeft })
        : t(outcome.problem === 'expired' ? 'enablement.code.expired' : 'enablement.recovery.exhausted');
      const field = outcome.problem === 'weak' ? 'code' : 'temporary';
      return page(input, 422, { errors: { summary: [message], fields: { [field]: message } } });
    }
    // waiting for identification: nothing to send
    return page(input, 409);
  },
};

function withEnablement(input: GateInput, enablement: Enablement | undefined): GateInput {
  return { ...input, facts: { ...input.facts, enablement: enablement ?? null } };
}

function page(input: GateInput, status: number, extra: { values?: Record<string, string>; errors?: { summary: string[]; fields: Record<string, string> }; error?: string; notice?: string } = {}): GatePage {
  const { facts, t } = input;
  const step = stepOf(facts) ?? 'identification';
  const email = referenceEmail(facts.account)?.address ?? '';
  return {
    view: 'gates/enablement',
    status,
    locals: {
      title: t(TITLES[step]),
      step,
      request: facts.enablement ? { number: facts.enablement.number } : null,
      contacts: { email, mobile: facts.account.mobilePhone ? formatPhone(facts.account.mobilePhone) : t('enablement.contacts_none') },
      values: extra.values ?? {},
      documentTypes: documentTypes(t),
      notice: extra.notice ?? null,
      errors: extra.errors ?? (extra.error ? { summary: [extra.error], fields: { code: extra.error } } : null),
    },
  };
}

const TITLES = {
  request: 'enablement.title',
  temporary_code: 'enablement.title',
  identification: 'enablement.waiting.title',
  personal_code: 'enablement.personal.title',
  recovery: 'enablement.recovery.title',
  confirm_personal_code: 'enablement.step_up.title',
} as const;

const documentTypes = (t: Translate) => DOCUMENT_TYPES.map((code) => ({ code, name: t(`enablement.document.${code}`) }));
