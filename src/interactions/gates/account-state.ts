import { blockingState } from '../../accounts/account.js';
import type { Gate } from './gate.js';

const TIME_FORMAT = new Intl.DateTimeFormat('it-IT', {
  timeZone: 'Europe/Rome',
  day: 'numeric',
  month: 'long',
  hour: '2-digit',
  minute: '2-digit',
});

/** DOMAIN.md §5 gate 1: a suspended, dormant or temporarily locked account goes no further. */
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
      reason: 'account_dormant',
      description: 'the account was made dormant after a long inactivity',
      error: 'access_denied',
      applies: ({ account, now }) => blockingState(account, now) === 'dormant',
    },
    {
      reason: 'account_locked',
      description: 'the account is temporarily locked',
      error: 'access_denied',
      applies: ({ account, now }) => blockingState(account, now) === 'locked',
    },
  ],
  show({ facts, reasons, t }) {
    const title = t('gate.account_state.title');
    if (reasons.includes('account_suspended')) {
      return { view: 'gates/account-state', status: 403, locals: { title, message: t('gate.account_state.account_suspended') } };
    }
    if (reasons.includes('account_dormant')) {
      // the way back: a new password (Password dimenticata?, or the officer's reset for MI accounts)
      const standard = facts.account.type === 'standard';
      return {
        view: 'gates/account-state',
        status: 403,
        locals: {
          title,
          message: t('gate.account_state.account_dormant'),
          wayBack: standard ? t('gate.account_state.dormant_way_back') : t('gate.account_state.dormant_way_back_mi'),
          wayBackLink: standard ? { href: '/recupero/password', label: t('login.forgot_password') } : undefined,
        },
      };
    }
    return {
      view: 'gates/account-state',
      status: 403,
      locals: { title, message: t('gate.account_state.account_locked', { until: TIME_FORMAT.format(facts.account.lockedUntil ?? facts.now) }) },
    };
  },
};
