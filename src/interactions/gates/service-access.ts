import type { Gate } from './gate.js';

/** DOMAIN.md §5 gate 5: a service may accept only some account types (SIDI: MI only). */
export const serviceAccess: Gate = {
  name: 'service_access',
  checks: [
    {
      reason: 'account_type_not_accepted',
      description: 'the service does not accept this account type',
      error: 'access_denied',
      applies: ({ account, service }) => !service.acceptedAccountTypes.includes(account.type),
    },
  ],
  show({ facts, t }) {
    const accepted = facts.service.acceptedAccountTypes.map((type) => t(`account_type.${type}`)).join(', ');
    return {
      view: 'gates/service-access',
      status: 403,
      locals: {
        title: t('gate.service_access.title', { service: facts.service.name }),
        message: t('gate.service_access.account_type_not_accepted', {
          service: facts.service.name,
          accepted,
          username: facts.account.username,
        }),
      },
    };
  },
};
