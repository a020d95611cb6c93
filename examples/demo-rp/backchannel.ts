import { jwtVerify, type JWTVerifyGetKey } from 'jose';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenExpectations {
  issuer: string;
  clientId: string;
  /** The provider's signing keys: createRemoteJWKSet(jwks_uri) in the app. */
  keys: JWTVerifyGetKey;
  /** Asymmetric algorithms the provider announces for ID tokens (logout tokens use the same). */
  algorithms: string[];
}

export interface LogoutTokenClaims {
  sid?: string | undefined;
  sub?: string | undefined;
  jti: string;
  iat: number;
}

/** Raised for any reason a logout token is refused; the reason is for logs and tests only. */
export class InvalidLogoutToken extends Error {}

/** Validates a logout token as OpenID Connect Back-Channel Logout 1.0 §2.6 asks. */
export async function verifyLogoutToken(token: string, expected: LogoutTokenExpectations): Promise<LogoutTokenClaims> {
  let result;
  try {
    result = await jwtVerify(token, expected.keys, {
      issuer: expected.issuer,
      audience: expected.clientId,
      algorithms: expected.algorithms,
      requiredClaims: ['iat', 'jti'],
      // The provider issues them with a 2-minute life; iat also bounds tokens without exp.
      maxTokenAge: '5 minutes',
      clockTolerance: 30,
    });
  } catch (err) {
    throw new InvalidLogoutToken(`JWT rejected: ${(err as Error).message}`);
  }
  const { payload, protectedHeader } = result;

  // Explicit typing is optional in the spec, but when present it must say logout+jwt.
  if (protectedHeader.typ !== undefined && protectedHeader.typ.toLowerCase().replace(/^application\//, '') !== 'logout+jwt') {
    throw new InvalidLogoutToken(`unexpected typ ${protectedHeader.typ}`);
  }
  const events = payload.events;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) {
    throw new InvalidLogoutToken('missing events claim');
  }
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidLogoutToken('events claim lacks the back-channel logout event');
  }
  // A nonce would mean an ID token is being replayed as a logout token.
  if ('nonce' in payload) throw new InvalidLogoutToken('nonce present');

  const sid = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined;
  const sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined;
  if (!sid && !sub) throw new InvalidLogoutToken('neither sid nor sub present');
  if (typeof payload.jti !== 'string' || typeof payload.iat !== 'number') {
    throw new InvalidLogoutToken('jti or iat malformed');
  }
  return { sid, sub, jti: payload.jti, iat: payload.iat };
}

/** ID token algorithms from discovery, keeping only ones a public JWKS can verify. */
export function asymmetricAlgorithms(announced: string[] | undefined): string[] {
  const usable = (announced ?? []).filter((alg) => alg !== 'none' && !alg.startsWith('HS'));
  return usable.length > 0 ? usable : ['RS256'];
}
