/** Authentication context classes this provider can assert (the ID token's `acr`). */
export const ACR = {
  /** username + password */
  password: 'urn:istruzione:iam:acr:password',
  /** username + password + a one-time code (TOTP or a recovery code) */
  otp: 'urn:istruzione:iam:acr:otp',
  /**
   * the personal code of an enabled service confirmed in this very sign-in (a step-up, e.g.
   * when an application is submitted to Istanze OnLine), with a fresh auth_time
   */
  personalCode: 'urn:istruzione:iam:acr:personal-code',
} as const;

export type AcrValue = (typeof ACR)[keyof typeof ACR];
export const SUPPORTED_ACR_VALUES: readonly string[] = Object.values(ACR);
