/**
 * The HTML every console page starts from: the navigation, the language switch, the CSRF token
 * and the language's catalog; the page's own module (public/*.js) fills <main> from the API.
 */
import { catalog, translate, type Language } from './i18n.js';

export type ShellOptions = {
  language: Language;
  page: string;
  title: string;
  csrfToken: string | null;
  /** The path without query, for the language switch's way back. */
  path: string;
  data?: Record<string, string>;
  bullBoard: boolean;
};

const NAV = [
  ['campaigns', '/console/campaigns', 'nav.campaigns'],
  ['new', '/console/campaigns/new', 'nav.new'],
  ['accounts', '/console/accounts', 'nav.accounts'],
  ['suppressions', '/console/suppressions', 'nav.suppressions'],
] as const;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** JSON inside <script type="application/json">: no "</script>" can end it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function pageShell(o: ShellOptions): string {
  const t = (key: string) => escapeHtml(translate(o.language, key));
  const data = Object.entries(o.data ?? {}).map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`).join('');
  const signedIn = o.csrfToken !== null;
  const nav = signedIn
    ? `<nav aria-label="${t('nav.label')}"><ul>${NAV.map(([page, href, key]) => `<li><a href="${href}"${page === o.page ? ' aria-current="page"' : ''}>${t(key)}</a></li>`).join('')}${
        o.bullBoard ? `<li><a href="/admin/queues">${t('nav.queues')}</a></li>` : ''
      }</ul></nav>`
    : '';
  const other: Language = o.language === 'es' ? 'en' : 'es';
  const back = encodeURIComponent(o.path);
  return `<!doctype html>
<html lang="${o.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)} · ${t('app.name')}</title>
<link rel="stylesheet" href="/console/static/console.css">
<link rel="icon" href="data:,">
${signedIn ? `<meta name="csrf-token" content="${escapeHtml(o.csrfToken ?? '')}">` : ''}
</head>
<body data-page="${o.page}"${data}>
<a class="skip" href="#main">${t('nav.skip')}</a>
<header class="top">
<a class="brand" href="/console/campaigns">${t('app.name')}</a>
${nav}
<div class="top-actions">
<a href="/console/language/${other}?back=${back}" lang="${other}" hreflang="${other}">${escapeHtml(translate(other, 'lang.switch'))}</a>
${signedIn ? `<button type="button" id="sign-out" class="link">${t('nav.signOut')}</button>` : ''}
</div>
</header>
<main id="main" tabindex="-1"><h1>${escapeHtml(o.title)}</h1><p class="loading">${t('common.loading')}</p></main>
<div id="live-region" class="visually-hidden" aria-live="polite"></div>
<script id="i18n" type="application/json">${scriptJson({ language: o.language, messages: catalog(o.language) })}</script>
<script type="module" src="/console/static/app.js"></script>
</body>
</html>`;
}
