/** Authentication context classes this provider can assert (the ID token's `acr`). */
export const ACR = {
  /** username + password */
  password: 'urn:istruzione:iam:acr:password',
} as const;

export type AcrValue = (typeof ACR)[keyof typeof ACR];
export const SUPPORTED_ACR_VALUES: readonly string[] = Object.values(ACR);
