import { z } from 'zod';
import type { PasswordRule } from '../../accounts/password-policy.js';
import type { PasswordChangeOutcome } from '../../accounts/passwords.js';
import type { MessageKey, Translate } from '../../i18n/index.js';
import type { Gate, GatePage } from './gate.js';

export const changeForm = z.object({
  current: z.string().max(1024).optional(),
  next: z.string().max(1024).default(''),
  confirm: z.string().max(1024).default(''),
});

export interface FormErrors {
  summary: string[];
  fields: { current?: string; next?: string; confirm?: string };
}

/**
 * DOMAIN.md §5 gate 2: an expired or temporary password, or one that no longer meets the
 * policy, is changed before any service opens. Expired never means blocked: the person
 * signs in as usual and changes it here.
 */
export const passwordChange: Gate = {
  name: 'password_change',
  checks: [
    {
      reason: 'password_temporary',
      description: 'the password is a temporary one',
      error: 'interaction_required',
      applies: ({ account }) => account.passwordTemporary,
    },
    {
      reason: 'password_expired',
      description: 'the password has expired',
      error: 'interaction_required',
      applies: ({ account, now }) => !account.passwordTemporary && account.passwordExpiresAt !== null && account.passwordExpiresAt.getTime() <= now.getTime(),
    },
    {
      reason: 'password_noncompliant',
      description: 'the password does not meet the current policy',
      error: 'interaction_required',
      applies: ({ account }) => !account.passwordTemporary && account.passwordNoncompliant,
    },
  ],
  show({ reasons, t, passwordRules }) {
    return page({ reasons, t, rules: passwordRules, status: 200 });
  },
  async submit({ facts, reasons, form, t, services, from, passwordRules }) {
    const parsed = changeForm.safeParse(form);
    const values = parsed.success ? parsed.data : { current: undefined, next: '', confirm: '' };
    const temporary = reasons.includes('password_temporary');
    const rules = passwordRules;
    const missing = missingFields(values, { askCurrent: !temporary }, t);
    if (missing) return page({ reasons, t, rules, status: 400, errors: missing });

    const outcome = await services.passwords.change(facts.account.id, {
      // the temporary password was typed a moment ago, on the login page
      current: temporary ? undefined : values.current,
      next: values.next,
      reason: temporary ? 'temporary' : reasons.includes('password_expired') ? 'expired' : 'noncompliant',
      from,
    });
    if (outcome.ok) return 'cleared';
    return page({ reasons, t, rules, status: outcome.problem === 'not_found' ? 409 : 422, errors: refusalErrors(outcome, t) });
  },
};

/** The form's own problems (a field left empty, the two new ones different), or null. */
export function missingFields(values: { current?: string; next: string; confirm: string }, options: { askCurrent: boolean }, t: Translate): FormErrors | null {
  const required = t('form.field_required');
  const fields: FormErrors['fields'] = {};
  if (options.askCurrent && !values.current) fields.current = required;
  if (!values.next) fields.next = required;
  if (!values.confirm) fields.confirm = required;
  else if (values.next && values.confirm !== values.next) fields.confirm = t('gate.password_change.mismatch');
  if (!Object.keys(fields).length) return null;
  return { summary: Object.values(fields).filter((m, i, all) => all.indexOf(m) === i), fields };
}

/** Why the password service refused the change, as the form shows it. */
export function refusalErrors(outcome: Exclude<PasswordChangeOutcome, { ok: true }>, t: Translate): FormErrors {
  if (outcome.problem === 'wrong_current') {
    const message = t('gate.password_change.wrong_current');
    return { summary: [message], fields: { current: message } };
  }
  if (outcome.problem === 'rules') {
    const messages = outcome.broken.map((rule) => brokenRuleMessage(t, rule));
    return { summary: messages, fields: { next: messages.join(' ') } };
  }
  return { summary: [t('error.internal')], fields: {} };
}

export function brokenRuleMessage(t: Translate, rule: PasswordRule): string {
  return t('password.rule_broken', { rule: t(`password.rule.${rule.name}` as MessageKey, rule.vars) });
}

function page(input: { reasons: string[]; t: Translate; rules: PasswordRule[]; status: number; errors?: FormErrors }): GatePage {
  const { reasons, t } = input;
  const why = reasons.includes('password_temporary') ? 'password_temporary' : reasons.includes('password_expired') ? 'password_expired' : 'password_noncompliant';
  return {
    view: 'gates/password-change',
    status: input.status,
    locals: {
      title: t('gate.password_change.title'),
      message: t(`gate.password_change.${why}` as MessageKey),
      askCurrent: why !== 'password_temporary',
      passwordRules: input.rules,
      errors: input.errors ?? null,
    },
  };
}
