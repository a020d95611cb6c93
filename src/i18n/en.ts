import type { MessageKey } from './it.js';

// English second; a missing key falls back to Italian.
export const en: Partial<Record<MessageKey, string>> = {
  'login.title': 'Sign in',
  'login.title_for_service': 'Sign in to {service}',
  'login.invalid_credentials': 'Wrong username or password. Check what you typed and try again.',
  'login.throttled': 'Too many failed sign-in attempts. Try again in {minutes} minutes.',
  'error.title': 'Something went wrong',
  'error.not_found': 'The page you asked for does not exist.',
};
