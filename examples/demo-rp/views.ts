import { CSRF_FIELD } from './csrf.js';
import { html, type SafeHtml } from './html.js';
import type { Session } from './sessions.js';

export interface PageContext {
  serviceName: string;
  /** Shown under the service name so two demo services side by side are told apart. */
  serviceId: string;
  /** the service's functions, shown to a signed-in person */
  links?: Array<{ label: string; href: string }>;
}

function layout(page: PageContext, title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} — ${page.serviceName}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
${demoBanner(page)}
<header>
<p class="tag">${page.serviceId}</p>
<h1>${page.serviceName}</h1>
</header>
<main>
${body}
</main>
<footer><p>Applicazione di esempio che usa IAM Istruzione per l'accesso.</p></footer>
</body>
</html>
`.value;
}

/**
 * Said on every page, first thing, so nobody mistakes the demo for the school service it
 * plays. A labelled region: screen readers list it among the landmarks, and axe wants
 * all content inside one.
 */
function demoBanner(page: PageContext): SafeHtml {
  return html`<section class="demo-banner" aria-label="Avviso">
<p><strong>Servizio dimostrativo</strong>: simula ${page.serviceName} per provare l'accesso unico. Non è il servizio reale.</p>
</section>`;
}

/** A form that changes the session: POST with the session's synchronizer token. */
function sessionForm(session: Session, action: string, label: string): SafeHtml {
  return html`<form method="post" action="${action}">
<input type="hidden" name="${CSRF_FIELD}" value="${session.csrfToken}">
<button type="submit">${label}</button>
</form>`;
}

function serviceLinks(page: PageContext): SafeHtml {
  if (!page.links?.length) return html``;
  return html`<nav aria-label="Funzioni del servizio"><ul class="links">${page.links.map((l) => html`<li><a href="${l.href}">${l.label}</a></li>`)}</ul></nav>`;
}

function notice(text: string | undefined): SafeHtml {
  return text ? html`<p class="notice" role="status">${text}</p>` : html``;
}

export function signedOutPage(page: PageContext, message?: string): string {
  return layout(page, 'Benvenuto', html`
${notice(message)}
<p>Non hai ancora effettuato l'accesso a ${page.serviceName}.</p>
<p><a class="button" href="/login">Accedi</a></p>`);
}

const TIME_CLAIMS = new Set(['iat', 'exp', 'nbf', 'auth_time', 'updated_at']);

function formatValue(name: string, value: unknown): string {
  if (typeof value === 'number' && TIME_CLAIMS.has(name)) {
    return `${value} (${new Date(value * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC)`;
  }
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function claimsTable(caption: string, claims: Record<string, unknown>): SafeHtml {
  const rows = Object.entries(claims).map(
    ([name, value]) => html`<tr><th scope="row"><code>${name}</code></th><td>${formatValue(name, value)}</td></tr>`,
  );
  return html`<table>
<caption>${caption}</caption>
<thead><tr><th scope="col">Attributo</th><th scope="col">Valore</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

function displayName(claims: Record<string, unknown>): string {
  for (const key of ['name', 'preferred_username', 'email', 'sub']) {
    const value = claims[key];
    if (typeof value === 'string' && value) return value;
  }
  return '';
}

export function signedInPage(page: PageContext, session: Session): string {
  const signIn = session.signIn!;
  const claims = { ...signIn.idTokenClaims, ...(signIn.userinfo ?? {}) };
  const acr = signIn.idTokenClaims.acr;
  const amr = signIn.idTokenClaims.amr;
  const expiresAt = signIn.accessTokenExpiresAt
    ? new Date(signIn.accessTokenExpiresAt).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
    : 'non indicata';

  const userinfo = signIn.userinfo
    ? claimsTable('Dati da userinfo', signIn.userinfo)
    : html`<p class="warning">Dati da userinfo non disponibili: ${signIn.userinfoError ?? 'nessuna risposta'}.</p>`;

  return layout(page, 'Area personale', html`
${notice(session.notice)}
<p>Hai effettuato l'accesso come <strong>${displayName(claims)}</strong>.</p>
<dl class="auth">
<dt>Livello di autenticazione (<code>acr</code>)</dt><dd>${typeof acr === 'string' ? acr : 'non indicato'}</dd>
<dt>Metodi di autenticazione (<code>amr</code>)</dt><dd>${Array.isArray(amr) ? amr.join(', ') : 'non indicati'}</dd>
<dt>Sessione del provider (<code>sid</code>)</dt><dd>${signIn.sid ?? 'non indicata'}</dd>
<dt>Scadenza del token di accesso</dt><dd>${expiresAt}</dd>
<dt>Token di aggiornamento</dt><dd>${signIn.refreshToken ? 'presente' : 'assente'}</dd>
</dl>
<div class="actions">
${signIn.refreshToken ? sessionForm(session, '/refresh', 'Aggiorna token') : html``}
${sessionForm(session, '/logout', 'Esci')}
</div>
${serviceLinks(page)}
${claimsTable("Dati dall'ID token", signIn.idTokenClaims)}
${userinfo}`);
}

/** What GET /logout shows: leaving takes a press of the button, never a mere link or image. */
export function logoutPage(page: PageContext, session: Session): string {
  return layout(page, 'Esci', html`
<h2>Vuoi uscire da ${page.serviceName}?</h2>
<p>Uscirai anche dal servizio di accesso unico.</p>
<div class="actions">
${sessionForm(session, '/logout', 'Esci')}
<a class="button secondary" href="/">Resta nel servizio</a>
</div>`);
}

export interface ErrorPageOptions {
  title: string;
  message: string;
  /** OAuth error code and description from the provider, shown as they came. */
  error?: string | undefined;
  errorDescription?: string | undefined;
}

export function errorPage(page: PageContext, options: ErrorPageOptions): string {
  const details = options.error
    ? html`<dl class="error-details">
<dt>Codice</dt><dd><code>${options.error}</code></dd>
${options.errorDescription ? html`<dt>Descrizione</dt><dd>${options.errorDescription}</dd>` : html``}
</dl>`
    : html``;
  return layout(page, options.title, html`
<h2>${options.title}</h2>
<p>${options.message}</p>
${details}
<p><a class="button" href="/">Torna alla pagina iniziale</a></p>`);
}

export const STYLESHEET = `
body { font-family: "Titillium Web", system-ui, sans-serif; margin: 0; color: #17324d; background: #f5f7fa; }
header { background: #0066cc; color: #fff; padding: 1rem 2rem; }
header h1 { margin: 0; font-size: 1.75rem; }
.tag { margin: 0; font-size: .875rem; }
.demo-banner { background: #fff4d6; border-bottom: 3px solid #a66300; color: #17324d; padding: .5rem 2rem; }
.demo-banner p { margin: 0; max-width: 60rem; }
main { max-width: 60rem; margin: 1.5rem auto; padding: 0 2rem; }
footer { max-width: 60rem; margin: 2rem auto; padding: 0 2rem; font-size: .875rem; color: #5c6f82; }
.button, button { display: inline-block; background: #0066cc; color: #fff; border: 0; border-radius: 4px;
  padding: .5rem 1.25rem; font: inherit; font-weight: 600; text-decoration: none; cursor: pointer; }
.button.secondary { background: #fff; color: #0066cc; box-shadow: inset 0 0 0 2px #0066cc; }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; margin: 1rem 0; }
.actions form { margin: 0; }
.notice { background: #e6f4ea; border-left: 4px solid #008758; padding: .75rem 1rem; }
.warning { background: #fff4e5; border-left: 4px solid #a66300; padding: .75rem 1rem; }
table { border-collapse: collapse; width: 100%; margin: 1.5rem 0; background: #fff; }
caption { text-align: left; font-weight: 600; font-size: 1.125rem; padding: .5rem 0; }
th, td { text-align: left; border-bottom: 1px solid #d9dadb; padding: .4rem .6rem; vertical-align: top; word-break: break-all; }
dl.auth, dl.error-details { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; word-break: break-all; }
`;
