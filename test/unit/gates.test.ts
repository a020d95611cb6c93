import type { Account } from '../../src/accounts/account.js';
import { blockingState, referenceEmail } from '../../src/accounts/account.js';
import { buildGateFacts } from '../../src/interactions/facts.js';
import { accountState } from '../../src/interactions/gates/account-state.js';
import { GATES } from '../../src/interactions/gates/index.js';
import { passwordChange } from '../../src/interactions/gates/password-change.js';
import { secondFactor } from '../../src/interactions/gates/second-factor.js';
import { ACR } from '../../src/accounts/acr.js';
import { SPID_LEVEL_1_POLICY, policyRules } from '../../src/accounts/password-policy.js';
import { SESSION_CHECKS } from '../../src/interactions/session-checks.js';
import { enablement } from '../../src/interactions/gates/enablement.js';
import type { Enablement } from '../../src/enablement/repository.js';
import { serviceAccess } from '../../src/interactions/gates/service-access.js';
import type { Service } from '../../src/services/catalogue.js';
import { t } from '../../src/i18n/index.js';

const now = new Date('2026-11-23T10:00:00Z');

function account(overrides: Partial<Account> = {}): Account {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    username: 'mario.rossi',
    type: 'standard',
    givenName: 'Mario',
    familyName: 'Rossi',
    fiscalCode: 'RSSMRA80A01H501U',
    birthDate: '1980-01-01',
    birthPlace: 'Roma',
    sex: 'M',
    personalEmail: 'mario@example.org',
    personalEmailVerified: false,
    institutionalEmail: null,
    mailboxState: null,
    mobilePhone: null,
    homePhone: null,
    address: { street: null, postalCode: null, municipality: null, province: null, country: null },
    status: 'active',
    lockedUntil: null,
    passwordChangedAt: now,
    passwordExpiresAt: null,
    passwordTemporary: false,
    accessRevokedAt: null,
    signInNotice: false,
    passwordNoncompliant: false,
    temporaryPasswordUsedAt: null,
    lastActiveAt: now,
    inactivityDeadline: null,
    ...overrides,
  };
}

const service: Service = { id: 's', name: 'SIDI', firstParty: true, enablementRequired: false, acceptedAccountTypes: ['mi'], requiredAcr: null, formActionOrigins: [] };
const facts = (a: Account, s: Service = service) => buildGateFacts({ account: a, service: s, now });
const firing = (gate: typeof accountState, a: Account, s?: Service) => gate.checks.filter((c) => c.applies(facts(a, s))).map((c) => c.reason);

describe('gates', () => {
  it('walk account state before service access', () => {
    expect(GATES.map((g) => g.name)).toEqual(['account_state', 'password_change', 'second_factor', 'enablement', 'service_access']);
  });

  const request = (state: Enablement['state']): Enablement => ({
    id: 'e', number: 'IST-2026-000001', accountId: 'a', serviceId: 's', state, document: { type: 'passaporto', number: 'YA1', issuer: 'X', expiry: '2031-01-01' },
    temporaryCodeHash: null, temporaryCodeExpiresAt: null, temporaryCodeTries: 0, identifiedAt: null, identifiedWhere: null, personalCodeHash: null, createdAt: now,
  });
  const nowSeconds = now.getTime() / 1000;
  it.each([
    ['a service without enablement', false, null, {}, undefined, []],
    ['no request yet', true, null, {}, undefined, ['enablement_request']],
    ['the code sent', true, 'code_sent', {}, undefined, ['enablement_temporary_code']],
    ['waiting for identification', true, 'awaiting_identification', {}, undefined, ['enablement_identification']],
    ['identified', true, 'identified', {}, undefined, ['enablement_personal_code']],
    ['recovering the personal code', true, 'recovering', {}, undefined, ['enablement_recovery']],
    ['revoked: a new request', true, 'revoked', {}, undefined, ['enablement_request']],
    ['enabled', true, 'enabled', {}, undefined, []],
    ['enabled, the service asking for the personal code', true, 'enabled', { acr: ACR.password, loginTs: nowSeconds }, ACR.personalCode, ['personal_code_requested']],
    ['enabled, the personal code just confirmed', true, 'enabled', { acr: ACR.personalCode, loginTs: nowSeconds - 30 }, ACR.personalCode, []],
    ['enabled, the personal code confirmed long ago', true, 'enabled', { acr: ACR.personalCode, loginTs: nowSeconds - 600 }, ACR.personalCode, ['personal_code_requested']],
    ['not yet enabled, the service asking for the personal code', true, 'awaiting_identification', {}, ACR.personalCode, ['enablement_identification']],
  ] as const)('enablement: %s', (_label, required, state, session, acrValues, reasons) => {
    const input = buildGateFacts({ account: account(), service: { ...service, enablementRequired: required }, session, acrValues, enablement: state ? request(state) : null, now });
    expect(enablement.checks.filter((c) => c.applies(input)).map((c) => c.reason)).toEqual(reasons);
  });

  it.each([
    ['an officer', { officer: true, enrolled: false }, {}, undefined, ['officer_profile']],
    ['an enrolled officer', { officer: true, enrolled: true }, {}, undefined, ['officer_profile', 'second_factor_enrolled']],
    ['an enrolled officer whose session has a code already', { officer: true, enrolled: true }, { amr: ['pwd', 'otp'] }, undefined, []],
    ['anyone, when the service asks with acr_values', { officer: false, enrolled: false }, {}, ACR.otp, ['acr_requested']],
    ['anyone else', { officer: false, enrolled: false }, {}, ACR.password, []],
  ])('second_factor: %s', (_label, secondFactorStatus, session, acrValues, reasons) => {
    const input = buildGateFacts({ account: account(), service, session, acrValues, secondFactor: secondFactorStatus, now });
    expect(secondFactor.checks.filter((c) => c.applies(input)).map((c) => c.reason)).toEqual(reasons);
  });

  it('second_factor: whenever the service requires two factors', () => {
    const strict = { ...service, requiredAcr: ACR.otp };
    expect(secondFactor.checks.filter((c) => c.applies(facts(account(), strict))).map((c) => c.reason)).toEqual(['acr_requested']);
  });

  it.each([
    ['active', account(), []],
    ['suspended', account({ status: 'suspended' }), ['account_suspended']],
    ['locked until later', account({ lockedUntil: new Date(now.getTime() + 60_000) }), ['account_locked']],
    ['lock expired', account({ lockedUntil: new Date(now.getTime() - 1) }), []],
    ['suspended and locked', account({ status: 'suspended', lockedUntil: new Date(now.getTime() + 60_000) }), ['account_suspended']],
    ['dormant', account({ status: 'dormant' }), ['account_dormant']],
    ['dormant and locked', account({ status: 'dormant', lockedUntil: new Date(now.getTime() + 60_000) }), ['account_dormant']],
  ])('account_state: %s', (_label, a, reasons) => {
    expect(firing(accountState, a)).toEqual(reasons);
  });

  it.each([
    ['standard at an MI-only service', account(), ['mi'], ['account_type_not_accepted']],
    ['MI at an MI-only service', account({ type: 'mi' }), ['mi'], []],
    ['standard where both are accepted', account(), ['standard', 'mi'], []],
  ] as const)('service_access: %s', (_label, a, accepted, reasons) => {
    expect(firing(serviceAccess, a, { ...service, acceptedAccountTypes: [...accepted] })).toEqual(reasons);
  });

  it('refusals use access_denied for prompt=none, gates a person can clear interaction_required', () => {
    for (const gate of GATES) {
      for (const check of gate.checks) expect(check.error).toBe(gate.submit ? 'interaction_required' : 'access_denied');
    }
  });

  it.each([
    ['current password', account({ passwordExpiresAt: new Date(now.getTime() + 1) }), []],
    ['expired', account({ passwordExpiresAt: now }), ['password_expired']],
    ['temporary (born expired)', account({ passwordTemporary: true, passwordExpiresAt: now }), ['password_temporary']],
    ['below the current policy', account({ passwordNoncompliant: true }), ['password_noncompliant']],
    ['expired and below the policy', account({ passwordExpiresAt: now, passwordNoncompliant: true }), ['password_expired', 'password_noncompliant']],
    ['never expiring', account({ passwordExpiresAt: null }), []],
  ])('password_change: %s', (_label, a, reasons) => {
    expect(firing(passwordChange, a)).toEqual(reasons);
  });

  it('the refusal page names the service and the accepted account types', async () => {
    const page = await serviceAccess.show({ facts: facts(account()), reasons: ['account_type_not_accepted'], t, passwordRules: policyRules(SPID_LEVEL_1_POLICY) });
    expect(page.status).toBe(403);
    expect(page.locals.message).toBe('SIDI accetta solo le utenze MI (personale del Ministero e delle segreterie). Hai eseguito l\'accesso con l\'utenza mario.rossi.');
  });

  it('the locked page says until when, in Rome time', async () => {
    const page = await accountState.show({ facts: facts(account({ lockedUntil: new Date('2026-11-23T10:15:00Z') })), reasons: ['account_locked'], t, passwordRules: policyRules(SPID_LEVEL_1_POLICY) });
    expect(page.locals.message).toContain('23 novembre');
    expect(page.locals.message).toContain('11:15');
  });
});

describe('session checks on the login prompt', () => {
  const signedInAt = (seconds: number) => buildGateFacts({ account: account({ accessRevokedAt: new Date('2026-11-23T09:00:00.500Z') }), service, session: { loginTs: seconds }, now });
  const revokedAtSeconds = Date.parse('2026-11-23T09:00:00Z') / 1000;
  it.each([
    ['signed in long before the revocation', revokedAtSeconds - 3600, ['access_revoked']],
    ['signed in the second before', revokedAtSeconds - 1, ['access_revoked']],
    ['signed in during the very second of the revocation', revokedAtSeconds, []],
    ['signed in after', revokedAtSeconds + 5, []],
  ])('%s', (_label, loginTs, reasons) => {
    expect(SESSION_CHECKS.filter((c) => c.applies(signedInAt(loginTs))).map((c) => c.reason)).toEqual(reasons);
  });

  it('never fire for an account whose sessions were never revoked', () => {
    expect(SESSION_CHECKS.filter((c) => c.applies(facts(account())))).toEqual([]);
  });
});

describe('account rules', () => {
  it('the reference e-mail is the institutional one when present', () => {
    expect(referenceEmail(account())).toEqual({ address: 'mario@example.org', verified: false });
    expect(referenceEmail(account({ institutionalEmail: 'mario.rossi@istruzione.it', mailboxState: 'ATTIVA' }))).toEqual({
      address: 'mario.rossi@istruzione.it',
      verified: true,
    });
    expect(referenceEmail(account({ personalEmail: null }))).toBeNull();
  });

  it('a dormant account is shown the way back: Password dimenticata? for standard accounts, the officer for MI', async () => {
    const input = (a: Account) => ({ facts: facts(a), reasons: ['account_dormant'], t, passwordRules: [] });
    const standard = await accountState.show(input(account({ status: 'dormant' })));
    expect(standard.locals.wayBackLink).toEqual({ href: '/recupero/password', label: 'Password dimenticata?' });
    const mi = await accountState.show(input(account({ status: 'dormant', type: 'mi', username: 'MI123456' })));
    expect(mi.locals.wayBackLink).toBeUndefined();
    expect(String(mi.locals.wayBack)).toContain('Responsabile della sicurezza');
  });

  it('suspension outranks a lock', () => {
    expect(blockingState(account({ status: 'suspended', lockedUntil: new Date(now.getTime() + 1000) }), now)).toBe('suspended');
  });
});
