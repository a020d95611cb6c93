import { randomBytes } from 'node:crypto';
import type { IDToken, UserInfoResponse } from 'openid-client';

/** What /login remembers until the provider comes back to /callback. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  createdAt: number;
}

/** A completed sign-in: tokens and what they say about the user. */
export interface SignIn {
  sub: string;
  /** The provider's session id from the ID token; back-channel logout targets it. */
  sid?: string | undefined;
  idToken: string;
  accessToken: string;
  refreshToken?: string | undefined;
  /** Epoch milliseconds, when the provider gave `expires_in`. */
  accessTokenExpiresAt?: number | undefined;
  idTokenClaims: IDToken;
  userinfo?: UserInfoResponse | undefined;
  /** Set when userinfo could not be fetched; the page says so instead of failing. */
  userinfoError?: string | undefined;
  signedInAt: number;
  refreshedAt?: number | undefined;
}

export interface Session {
  id: string;
  createdAt: number;
  lastSeenAt: number;
  pending?: PendingLogin | undefined;
  signIn?: SignIn | undefined;
  /** The `state` sent to end_session, checked when the provider sends the browser back. */
  logoutState?: string | undefined;
  /** A one-time message for the next page view. */
  notice?: string | undefined;
}

const IDLE_LIMIT_MS = 8 * 60 * 60 * 1000;
const PENDING_LIMIT_MS = 10 * 60 * 1000;

/** In-memory sessions, keyed by an unguessable id carried in the session cookie. */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.#sessions.size;
  }

  create(): Session {
    this.#prune();
    const time = this.now();
    const session: Session = { id: randomBytes(32).toString('base64url'), createdAt: time, lastSeenAt: time };
    this.#sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    const time = this.now();
    if (time - session.lastSeenAt > IDLE_LIMIT_MS) {
      this.#sessions.delete(id);
      return undefined;
    }
    if (session.pending && time - session.pending.createdAt > PENDING_LIMIT_MS) session.pending = undefined;
    session.lastSeenAt = time;
    return session;
  }

  destroy(id: string): boolean {
    return this.#sessions.delete(id);
  }

  /** Removes every session the predicate matches; returns how many. */
  destroyWhere(predicate: (session: Session) => boolean): number {
    let count = 0;
    for (const session of this.#sessions.values()) {
      if (predicate(session)) {
        this.#sessions.delete(session.id);
        count += 1;
      }
    }
    return count;
  }

  all(): Session[] {
    return [...this.#sessions.values()];
  }

  /** Sessions with a completed sign-in. */
  signedIn(): Session[] {
    return this.all().filter((s) => s.signIn !== undefined);
  }

  clear(): void {
    this.#sessions.clear();
  }

  #prune(): void {
    const time = this.now();
    for (const [id, session] of this.#sessions) {
      if (time - session.lastSeenAt > IDLE_LIMIT_MS) this.#sessions.delete(id);
    }
  }
}
