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
  /** Synchronizer token the session's own forms carry (Esci, Aggiorna token). */
  csrfToken: string;
  pending?: PendingLogin | undefined;
  signIn?: SignIn | undefined;
  /** The `state` sent to end_session, checked when the provider sends the browser back. */
  logoutState?: string | undefined;
  /** A one-time message for the next page view. */
  notice?: string | undefined;
}

export interface SessionLimits {
  /** Most sessions kept at once; beyond it the least recently used one is dropped. */
  maxSessions: number;
  /** A signed-in session unused this long is forgotten: the provider's own session life. */
  signedInIdleMs: number;
  /** A session without a sign-in (a login under way, a notice) goes sooner, as does a pending login: the provider's interaction life. */
  pendingIdleMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxSessions: 10_000,
  signedInIdleMs: 10 * 60 * 60 * 1000,
  pendingIdleMs: 30 * 60 * 1000,
};

export interface SessionStoreOptions extends Partial<SessionLimits> {
  now?: () => number;
}

/**
 * In-memory sessions, keyed by an unguessable id carried in the session cookie.
 *
 * Bounded so that a flood of requests cannot exhaust memory: sessions expire when
 * idle, and past `maxSessions` the least recently used goes. Sessions without a
 * sign-in live in their own pool and are evicted first, so a flood of logins that
 * never finish pushes out other unfinished logins, not the people signed in.
 */
export class SessionStore {
  // Each Map is kept in order of last use (oldest first): touching a session re-inserts it.
  readonly #signedIn = new Map<string, Session>();
  readonly #anonymous = new Map<string, Session>();
  readonly #limits: SessionLimits;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    const { now, ...limits } = options;
    this.#now = now ?? Date.now;
    this.#limits = { ...DEFAULT_SESSION_LIMITS, ...definedOnly(limits) };
    if (!(this.#limits.maxSessions >= 1)) throw new Error('maxSessions must be at least 1');
  }

  get limits(): Readonly<SessionLimits> {
    return this.#limits;
  }

  /** Live sessions (expired ones are dropped first). */
  get size(): number {
    this.#prune();
    return this.#signedIn.size + this.#anonymous.size;
  }

  create(signIn?: SignIn): Session {
    this.#prune();
    while (this.#signedIn.size + this.#anonymous.size >= this.#limits.maxSessions) this.#evictLeastRecentlyUsed();
    const time = this.#now();
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      createdAt: time,
      lastSeenAt: time,
      csrfToken: randomBytes(32).toString('base64url'),
      signIn,
    };
    this.#place(session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.#signedIn.get(id) ?? this.#anonymous.get(id);
    if (!session) return undefined;
    const time = this.#now();
    if (this.#expired(session, time)) {
      this.destroy(id);
      return undefined;
    }
    if (session.pending && time - session.pending.createdAt > this.#limits.pendingIdleMs) session.pending = undefined;
    session.lastSeenAt = time;
    this.#place(session);
    return session;
  }

  destroy(id: string): boolean {
    const fromSignedIn = this.#signedIn.delete(id);
    return this.#anonymous.delete(id) || fromSignedIn;
  }

  /** Removes every session the predicate matches; returns how many. */
  destroyWhere(predicate: (session: Session) => boolean): number {
    let count = 0;
    for (const session of this.all()) {
      if (predicate(session) && this.destroy(session.id)) count += 1;
    }
    return count;
  }

  all(): Session[] {
    this.#prune();
    return [...this.#signedIn.values(), ...this.#anonymous.values()];
  }

  /** Sessions with a completed sign-in. */
  signedIn(): Session[] {
    return this.all().filter((s) => s.signIn !== undefined);
  }

  clear(): void {
    this.#signedIn.clear();
    this.#anonymous.clear();
  }

  /** Moves the session to the most recent end of the pool its state belongs to. */
  #place(session: Session): void {
    this.destroy(session.id);
    (session.signIn ? this.#signedIn : this.#anonymous).set(session.id, session);
  }

  #expired(session: Session, time: number): boolean {
    const limit = session.signIn ? this.#limits.signedInIdleMs : this.#limits.pendingIdleMs;
    return time - session.lastSeenAt > limit;
  }

  #evictLeastRecentlyUsed(): void {
    const pool = this.#anonymous.size > 0 ? this.#anonymous : this.#signedIn;
    const oldest = pool.keys().next();
    if (!oldest.done) pool.delete(oldest.value);
  }

  #prune(): void {
    const time = this.#now();
    for (const [pool, limit] of [
      [this.#signedIn, this.#limits.signedInIdleMs],
      [this.#anonymous, this.#limits.pendingIdleMs],
    ] as const) {
      for (const [id, session] of pool) {
        // Oldest first: once one is within its pool's limit, all later ones are too.
        if (time - session.lastSeenAt <= limit) break;
        if (this.#expired(session, time)) pool.delete(id);
      }
    }
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
