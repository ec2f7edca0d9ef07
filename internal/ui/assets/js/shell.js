// The page shell: client-side routing, the error banner, the progress bar
// and the keyboard-shortcut help.
import { h, clear, setText } from './dom.js';

// ---- routing -------------------------------------------------------------

let routeHandler = () => {};

/** onRoute registers the function called with {path, params, pop} on every navigation. */
export function onRoute(fn) {
  routeHandler = fn;
}

/** currentRoute describes location. */
export function currentRoute(pop = false) {
  return { path: location.pathname, params: new URLSearchParams(location.search), pop };
}

/**
 * navigate goes to a same-origin URL without reloading: pushState (or
 * replaceState) and route. Re-navigating to the current URL replaces it.
 */
export function navigate(url, { replace = false } = {}) {
  const u = new URL(url, location.href);
  if (u.origin !== location.origin) {
    location.assign(u.href);
    return;
  }
  const target = u.pathname + u.search + u.hash;
  const same = target === location.pathname + location.search + location.hash;
  if (replace || same) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  clearError();
  routeHandler(currentRoute(false));
}

/** setURL changes the address bar without routing (for state such as the selected span). */
export function setURL(url) {
  const u = new URL(url, location.href);
  history.replaceState(null, '', u.pathname + u.search + u.hash);
}

export function startRouter() {
  window.addEventListener('popstate', () => {
    clearError();
    routeHandler(currentRoute(true));
  });
  // Plain left clicks on same-origin links marked data-nav route on the
  // client; modified clicks (new tab, new window) keep browser behaviour.
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target instanceof Element ? e.target.closest('a[data-nav]') : null;
    if (!a || a.target) return;
    e.preventDefault();
    navigate(a.getAttribute('href'));
  });
  routeHandler(currentRoute(false));
}

// ---- error banner --------------------------------------------------------

const banner = () => document.getElementById('banner');

/** showError shows msg (as text) in the banner at the top of the page. */
export function showError(msg) {
  const b = banner();
  setText(document.getElementById('banner-text'), msg);
  b.hidden = false;
}

export function clearError() {
  const b = banner();
  if (b) b.hidden = true;
}

// ---- progress --------------------------------------------------------------

let busyCount = 0;
let busyTimer = 0;

/** busy shows the top progress bar until the promise settles (after 120 ms, to avoid flicker). */
export async function busy(promise) {
  const bar = document.getElementById('progress');
  if (busyCount++ === 0) busyTimer = setTimeout(() => { bar.hidden = false; }, 120);
  try {
    return await promise;
  } finally {
    if (--busyCount === 0) {
      clearTimeout(busyTimer);
      bar.hidden = true;
    }
  }
}

// ---- keyboard help ---------------------------------------------------------

const SHORTCUTS = [
  ['Anywhere', [['/', 'Focus the search or find box'], ['?', 'Show this help'], ['Esc', 'Close panel, clear find, leave a field']]],
  ['Trace waterfall', [
    ['↑ ↓  or  k j', 'Previous / next span'],
    ['←  or  h', 'Collapse, or go to the parent'],
    ['→  or  l', 'Expand, or go to the first child'],
    ['Enter / Space', 'Show or hide the span detail'],
    ['Home / End', 'First / last span'],
    ['PgUp / PgDn', 'Page up / down'],
    ['n / N', 'Next / previous find match'],
  ]],
];

let helpDialog = null;

export function toggleHelp() {
  if (!helpDialog) {
    helpDialog = h('dialog', { class: 'help', 'aria-label': 'Keyboard shortcuts' },
      h('div', { class: 'help-head' },
        h('h2', null, 'Keyboard shortcuts'),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', onClick: () => helpDialog.close() }, '×')),
      SHORTCUTS.map(([title, rows]) => h('section', null,
        h('h3', null, title),
        h('table', null, h('tbody', null, rows.map(([k, v]) => h('tr', null, h('td', null, h('kbd', null, k)), h('td', null, v))))))));
    helpDialog.addEventListener('click', (e) => { if (e.target === helpDialog) helpDialog.close(); });
    document.body.appendChild(helpDialog);
  }
  if (helpDialog.open) helpDialog.close();
  else helpDialog.showModal();
}

/** emptyState renders a centred message with an optional hint. */
export function emptyState(title, hint, cls = '') {
  return h('div', { class: `empty ${cls}` }, h('div', { class: 'empty-title' }, title), hint ? h('div', { class: 'empty-hint' }, hint) : null);
}

/** loadingState renders a spinner with a message. */
export function loadingState(msg) {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), msg);
}

export { clear };
