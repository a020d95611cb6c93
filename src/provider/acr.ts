/** Authentication context classes this provider can assert (the ID token's `acr`). */
export const ACR = {
  /** username + password */
  password: 'urn:istruzione:iam:acr:password',
  /** username + password + a one-time code (TOTP or a recovery code) */
  otp: 'urn:istruzione:iam:acr:otp',
} as const;

export type AcrValue = (typeof ACR)[keyof typeof ACR];
export const SUPPORTED_ACR_VALUES: readonly string[] = Object.values(ACR);
