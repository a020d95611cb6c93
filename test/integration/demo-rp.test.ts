import type { IDToken } from 'openid-client';
import { createDemoRp, type DemoRp } from '../../examples/demo-rp/app.js';
import { CSRF_FIELD, csrfTokenMatches } from '../../examples/demo-rp/csrf.js';
import { SessionStore, type SignIn } from '../../examples/demo-rp/sessions.js';
import { startWorld, type World } from '../e2e/support/world.js';
import { FormBrowser, formFields } from '../support/browser.js';
import { submitLogin } from '../support/oidc.js';
import { testPerson } from '../support/server.js';

const REGISTRO = { id: 'registro-elettronico', name: 'Registro Elettronico' };
const BANNER = "Servizio dimostrativo: simula Registro Elettronico per provare l'accesso unico. Non è il servizio reale.";

let world: World;
let rp: DemoRp;
const person = testPerson();
let username: string;

beforeAll(async () => {
  world = await startWorld([REGISTRO]);
  rp = world.rps[REGISTRO.id]!;
  ({ username } = await world.server.deps.provisioning.provision(person));
});
afterAll(async () => {
  await world?.close();
});

/** A person's browser: the demo service and the provider keep separate cookie jars. */
interface Visitor {
  atService: FormBrowser;
  atProvider: FormBrowser;
}

async function signedInVisitor(): Promise<Visitor & { home: string }> {
  const visitor = { atService: new FormBrowser(rp.url), atProvider: new FormBrowser(world.server.url) };
  const toProvider = await visitor.atService.get('/login');
  let page = await visitor.atProvider.follow(await visitor.atProvider.get(toProvider.headers.get('location')!));
  if (page.body.includes('name="password"')) page = await submitLogin(visitor.atProvider, page, username, person.password);
  expect(page.url).toMatch(new RegExp(`^${rp.url}/callback\\?`));
  const home = await visitor.atService.follow(await visitor.atService.get(page.url));
  expect(home.body).toContain('>Esci</button>');
  return { ...visitor, home: home.body };
}

async function isSignedIn(visitor: Visitor): Promise<boolean> {
  const home = await visitor.atService.get('/');
  return (await home.text()).includes('>Esci</button>');
}

function bannerText(body: string): string | undefined {
  const section = /<section class="demo-banner" aria-label="Avviso">([\s\S]*?)<\/section>/.exec(body)?.[1];
  return section?.replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/\s+/g, ' ').trim();
}

describe('demo RP logout', () => {
  it('does not log out on GET: it shows the Esci button instead', async () => {
    const visitor = await signedInVisitor();
    const response = await visitor.atService.get('/logout');
    expect(response.status).toBe(200);
    const form = formFields(await response.text(), /^\/logout$/);
    expect(form.fields[CSRF_FIELD]).toMatch(/^[\w-]{43}$/);
    expect(await isSignedIn(visitor)).toBe(true);
  });

  it.each([
    ['without a token', {}],
    ['with a wrong token', { [CSRF_FIELD]: 'x'.repeat(43) }],
    ['with an empty token', { [CSRF_FIELD]: '' }],
  ])('answers 403 to a POST %s and stays signed in', async (_, fields: Record<string, string>) => {
    const visitor = await signedInVisitor();
    const response = await visitor.atService.post('/logout', fields);
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).toContain('Uscita non eseguita');
    expect(body).toContain('non è stato fatto nulla');
    expect(response.headers.get('location')).toBeNull();
    expect(await isSignedIn(visitor)).toBe(true);
  });

  it("refuses another session's token", async () => {
    const victim = await signedInVisitor();
    const attacker = await signedInVisitor();
    const attackerToken = formFields(attacker.home, /^\/logout$/).fields[CSRF_FIELD]!;
    const response = await victim.atService.post('/logout', { [CSRF_FIELD]: attackerToken });
    expect(response.status).toBe(403);
    expect(await isSignedIn(victim)).toBe(true);
  });

  it('logs out on a POST with the token, through the provider, and comes back signed out', async () => {
    const visitor = await signedInVisitor();
    const signedInBefore = rp.sessions.signedIn().length;
    const form = formFields(visitor.home, /^\/logout$/);
    const response = await visitor.atService.post(form.action, form.fields);
    expect(response.status).toBe(303);
    expect(rp.sessions.signedIn()).toHaveLength(signedInBefore - 1);

    const endSession = new URL(response.headers.get('location')!);
    expect(endSession.origin).toBe(new URL(world.server.url).origin);
    expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(rp.postLogoutRedirectUri);
    const state = endSession.searchParams.get('state');
    expect(state).toBeTruthy();

    const confirm = await visitor.atProvider.follow(await visitor.atProvider.get(endSession.href));
    const yes = formFields(confirm.body, /\/session\/end\/confirm$/);
    const back = await visitor.atProvider.follow(await visitor.atProvider.post(yes.action, { ...yes.fields, logout: 'yes' }));
    expect(back.url).toBe(`${rp.postLogoutRedirectUri}?state=${state}`);

    const home = await visitor.atService.follow(await visitor.atService.get(back.url));
    expect(home.body).toContain(`Sei uscito da ${REGISTRO.name}.`);
    expect(home.body).toContain('>Accedi</a>');
  });

  it('refuses Aggiorna token without the token as well', async () => {
    const visitor = await signedInVisitor();
    const response = await visitor.atService.post('/refresh', {});
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Aggiornamento non eseguito');
    expect(await isSignedIn(visitor)).toBe(true);
  });

  it('stores no session for visitors who only look, or post without one', async () => {
    const before = rp.sessions.size;
    const stranger = new FormBrowser(rp.url);
    expect((await stranger.get('/')).status).toBe(200);
    expect((await stranger.get('/logout')).status).toBe(302);
    expect((await stranger.post('/logout', {})).status).toBe(303);
    expect((await stranger.get('/pagina-che-non-esiste')).status).toBe(404);
    expect(rp.sessions.size).toBe(before);
  });
});

describe('demo RP banner', () => {
  it('says on every page that the service is a demonstration', async () => {
    const visitor = await signedInVisitor();
    const stranger = new FormBrowser(rp.url);
    const pages = {
      'signed out': await stranger.get('/'),
      'signed in': await visitor.atService.get('/'),
      'logout question': await visitor.atService.get('/logout'),
      'refused form': await visitor.atService.post('/logout', {}),
      'callback error': await stranger.get('/callback?error=access_denied'),
      'not found': await stranger.get('/pagina-che-non-esiste'),
    };
    for (const [name, response] of Object.entries(pages)) {
      expect([name, bannerText(await response.text())]).toEqual([name, BANNER]);
    }
  });
});

describe('demo RP session store in the app', () => {
  it('keeps at most maxSessions while logins are started and never finished', async () => {
    const client = rp.client;
    const small = await createDemoRp({
      issuer: world.server.url,
      port: 0,
      client,
      sessionStore: { maxSessions: 5 },
      log: () => {},
    });
    try {
      for (let i = 0; i < 40; i++) {
        const response = await new FormBrowser(small.url).get('/login');
        expect(response.status).toBe(302);
      }
      expect(small.sessions.size).toBe(5);
    } finally {
      await small.close();
    }
  });
});

describe('SessionStore', () => {
  const MINUTE = 60_000;
  const HOUR = 60 * MINUTE;

  function fakeClock(start = 1_700_000_000_000) {
    let time = start;
    return { now: () => time, advance: (ms: number) => { time += ms; } };
  }

  const signIn = (sub: string): SignIn => ({
    sub, idToken: 'id', accessToken: 'at', idTokenClaims: { sub } as IDToken, signedInAt: 0,
  });

  it('evicts the least recently used session beyond its cap', () => {
    const clock = fakeClock();
    const store = new SessionStore({ maxSessions: 3, now: clock.now });
    const [a, b, c] = [store.create(), store.create(), store.create()];
    clock.advance(1000);
    store.get(a.id);
    const d = store.create();
    expect(store.size).toBe(3);
    expect(store.get(b.id)).toBeUndefined();
    for (const kept of [a, c, d]) expect(store.get(kept.id)).toBe(kept);
  });

  it('evicts unfinished logins before people who are signed in', () => {
    const store = new SessionStore({ maxSessions: 3 });
    const signedIn = store.create(signIn('anna'));
    for (let i = 0; i < 1000; i++) store.create().pending = { state: 's', nonce: 'n', codeVerifier: 'v', createdAt: Date.now() };
    expect(store.size).toBe(3);
    expect(store.get(signedIn.id)).toBe(signedIn);
  });

  it('evicts the least recently used signed-in session when all are signed in', () => {
    const store = new SessionStore({ maxSessions: 2 });
    const [first, second] = [store.create(signIn('a')), store.create(signIn('b'))];
    store.get(first.id);
    store.create(signIn('c'));
    expect(store.get(second.id)).toBeUndefined();
    expect(store.get(first.id)).toBe(first);
  });

  it('expires idle sessions: unfinished logins after 30 minutes, sign-ins after 10 hours', () => {
    const clock = fakeClock();
    const store = new SessionStore({ now: clock.now });
    const pending = store.create();
    const signedIn = store.create(signIn('anna'));
    clock.advance(30 * MINUTE + 1);
    expect(store.get(pending.id)).toBeUndefined();
    expect(store.get(signedIn.id)).toBe(signedIn);
    clock.advance(10 * HOUR);
    expect(store.get(signedIn.id)).toBe(signedIn);
    clock.advance(10 * HOUR + 1);
    expect(store.get(signedIn.id)).toBeUndefined();
  });

  it('forgets expired sessions nobody comes back for', () => {
    const clock = fakeClock();
    const store = new SessionStore({ now: clock.now, pendingIdleMs: 1000, signedInIdleMs: 5000 });
    for (let i = 0; i < 50; i++) store.create();
    const signedIn = store.create(signIn('anna'));
    clock.advance(2000);
    expect(store.size).toBe(1);
    expect(store.all()).toEqual([signedIn]);
    clock.advance(5000);
    expect(store.size).toBe(0);
  });

  it('drops a pending login older than the limit even while the session is in use', () => {
    const clock = fakeClock();
    const store = new SessionStore({ now: clock.now, pendingIdleMs: 30 * MINUTE });
    const session = store.create(signIn('anna'));
    session.pending = { state: 's', nonce: 'n', codeVerifier: 'v', createdAt: clock.now() };
    for (let i = 0; i < 4; i++) {
      clock.advance(10 * MINUTE);
      store.get(session.id);
    }
    expect(session.pending).toBeUndefined();
    expect(store.get(session.id)).toBe(session);
  });

  it('gives every session its own CSRF token', () => {
    const store = new SessionStore();
    const tokens = new Set(Array.from({ length: 20 }, () => store.create().csrfToken));
    expect(tokens.size).toBe(20);
  });
});

describe('csrfTokenMatches', () => {
  it.each([
    ['the same token', 'abc', 'abc', true],
    ['another token of the same length', 'abc', 'abd', false],
    ['a shorter token', 'abc', 'ab', false],
    ['a longer token', 'abc', 'abcd', false],
    ['an empty token', 'abc', '', false],
    ['no token', 'abc', undefined, false],
    ['a list of tokens', 'abc', ['abc'], false],
    ['anything, when the session has none', '', '', false],
  ])('%s', (_, expected: string, submitted: unknown, result: boolean) => {
    expect(csrfTokenMatches(expected, submitted)).toBe(result);
  });
});
