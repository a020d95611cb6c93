import { blockingState } from '../../accounts/account.js';
import type { Gate } from './gate.js';

const TIME_FORMAT = new Intl.DateTimeFormat('it-IT', {
  timeZone: 'Europe/Rome',
  day: 'numeric',
  month: 'long',
  hour: '2-digit',
  minute: '2-digit',
});

/** DOMAIN.md §5 gate 1: a suspended or temporarily locked account goes no further. */
export const accountState: Gate = {
  name: 'account_state',
  checks: [
    {
      reason: 'account_suspended',
      description: 'the account is suspended',
      error: 'access_denied',
      applies: ({ account, now }) => blockingState(account, now) === 'suspended',
    },
    {
      reason: 'account_locked',
      description: 'the account is temporarily locked',
      error: 'access_denied',
      applies: ({ account, now }) => blockingState(account, now) === 'locked',
    },
  ],
  show({ facts, reasons, t }) {
    const suspended = reasons.includes('account_suspended');
    return {
      view: 'gates/account-state',
      status: 403,
      locals: {
        title: t('gate.account_state.title'),
        message: suspended
          ? t('gate.account_state.account_suspended')
          : t('gate.account_state.account_locked', { until: TIME_FORMAT.format(facts.account.lockedUntil ?? facts.now) }),
      },
    };
  },
};
