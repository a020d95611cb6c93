import type { EnablementStateName } from '../db/schema.js';

export type EnablementState = EnablementStateName;

/*
 * The enablement (abilitazione) of one account for one service, DOMAIN.md §7:
 *
 *   (none) ──form sent──▶ code_sent ──temporary code entered──▶ awaiting_identification
 *                           │  ▲                                      │
 *                           └──┘ new code asked (the old one expired)  │ an officer at any school
 *                                                                      ▼ checks the document
 *   enabled ◀──own personal code set at the next sign-in── identified
 *      │  ▲
 *      │  └── temporary code + a new personal code, at the next sign-in ──┐
 *      └──── recupero codice personale: a new temporary code e-mailed ──▶ recovering
 *
 *   any state ──revoked by the person or an administrator──▶ revoked (kept; a new request may start)
 *
 * Each arrow is one guarded UPDATE … WHERE state = <from>: a step that finds another state
 * (a second confirmation, a form sent twice) changes nothing and says so.
 */
export const TRANSITIONS: Readonly<Record<EnablementState, readonly EnablementState[]>> = {
  code_sent: ['code_sent', 'awaiting_identification', 'revoked'],
  awaiting_identification: ['identified', 'revoked'],
  identified: ['enabled', 'revoked'],
  enabled: ['recovering', 'revoked'],
  recovering: ['recovering', 'enabled', 'revoked'],
  revoked: [],
};

export function canMove(from: EnablementState, to: EnablementState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** What the service's sign-in still needs, by state; null once enabled. */
export type EnablementStep = 'request' | 'temporary_code' | 'identification' | 'personal_code' | 'recovery';

export function nextStep(state: EnablementState | null): EnablementStep | null {
  switch (state) {
    case null:
    case 'revoked':
      return 'request';
    case 'code_sent':
      return 'temporary_code';
    case 'awaiting_identification':
      return 'identification';
    case 'identified':
      return 'personal_code';
    case 'recovering':
      return 'recovery';
    case 'enabled':
      return null;
  }
}
