import type { RenderPage } from '../http/views.js';

export { createRegistrationRouter } from './router.js';
export { createRegistrationService, type RegistrationService } from './service.js';
export { createRegistrationThrottle, type RegistrationLimits } from './throttle.js';

/** Every page learns whether Registrati is on (the login page shows its link only then). */
export function withSelfRegistrationFlag(render: RenderPage, enabled: boolean): RenderPage {
  return (view, locals, locale) => render(view, { selfRegistration: enabled, ...locals }, locale);
}
