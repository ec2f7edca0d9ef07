// Entry point: wires the shell (router, banner, top bar, shortcuts) to the pages.
//
// A page is an object with mount(el, route), optional update(route) that
// returns true when it handled a new route in place, optional focusSearch()
// and optional onKey(e), and unmount(). Each page is a module loaded when it
// is first shown, so that a page never waits for another's code; the server
// preloads the modules of the page it serves (ui/preload.go).
import { h, clear, setText, isTyping } from './dom.js';
import { onRoute, startRouter, navigate, showError, clearError, toggleHelp, emptyState } from './shell.js';
import { timeZoneLabel } from './format.js';

const PAGES = {
  search: () => import('./search.js').then((m) => m.SearchPage),
  trace: () => import('./trace.js').then((m) => m.TracePage),
  query: () => import('./explore.js').then((m) => m.ExplorePage),
  xray: () => import('./xray.js').then((m) => m.XRayPage),
  errors: () => import('./errors.js').then((m) => m.ErrorsPage),
  error: () => import('./erroritem.js').then((m) => m.ErrorItemPage),
  access: () => import('./erroraccess.js').then((m) => m.ErrorAccessPage),
  logs: () => import('./logs.js').then((m) => m.LogsPage),
  sources: () => import('./sources.js').then((m) => m.SourcesPage),
  insights: () => import('./insights.js').then((m) => m.InsightsPage),
};

const main = document.getElementById('main');
let page = null;
let pageKind = '';
let routing = 0; // counts navigations, so that a page still loading when another starts is dropped

function resolve(path) {
  if (path === '/' || path === '/search' || path === '/search/') return { kind: 'search' };
  if (path === '/query' || path === '/query/') return { kind: 'query' };
  if (path === '/xray' || path === '/xray/') return { kind: 'xray' };
  if (path === '/errors' || path === '/errors/') return { kind: 'errors' };
  if (path === '/errors/access' || path === '/errors/access/') return { kind: 'access' };
  const item = /^\/errors\/(\d{1,18})\/?$/.exec(path);
  if (item) return { kind: 'error', id: item[1] };
  if (path === '/logs' || path === '/logs/') return { kind: 'logs' };
  if (path === '/insights' || path === '/insights/') return { kind: 'insights' };
  const lg = /^\/logs\/([^/]+)\/?$/.exec(path);
  if (lg) {
    let id;
    try { id = decodeURIComponent(lg[1]); } catch { id = lg[1]; }
    return { kind: 'logs', id };
  }
  if (path === '/sources' || path === '/sources/') return { kind: 'sources' };
  const m = /^\/trace\/([^/]+)\/?$/.exec(path);
  if (m) {
    let id;
    try { id = decodeURIComponent(m[1]); } catch { id = m[1]; }
    return { kind: 'trace', id };
  }
  return { kind: 'notfound' };
}

onRoute(async (route) => {
  const r = resolve(route.path);
  route.id = r.id;
  document.querySelectorAll('.topnav a').forEach((a) => {
    a.classList.toggle('active', a.dataset.section === (r.kind === 'error' || r.kind === 'access' ? 'errors' : r.kind));
  });
  if (page && pageKind === r.kind && page.update && page.update(route)) return;
  if (page) page.unmount();
  page = null;
  clear(main);
  pageKind = r.kind;
  const token = ++routing;
  const load = PAGES[r.kind];
  if (!load) {
    document.title = 'Not found · lookout';
    main.appendChild(emptyState('Page not found', h('span', null, 'There is nothing at this address. ', h('a', { href: '/', 'data-nav': true }, 'Search traces'), '.'), 'page-empty'));
    return;
  }
  let Page;
  try {
    Page = await load();
  } catch (err) {
    showError(`Could not load the page: ${err.message}. Reload to try again.`);
    return;
  }
  if (token !== routing) return;
  page = new Page();
  page.mount(main, route);
});

// Every time on every page is in the browser's time zone; the top bar names it once. The
// zone's name comes from Intl, slow to start: once the page is drawn.
(window.requestIdleCallback || setTimeout)(() => setText(document.getElementById('tz'), `Times in ${timeZoneLabel()}`));

// Top bar: jump to a trace by ID.
document.getElementById('goto').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('goto-id');
  const id = input.value.trim();
  if (!id) return;
  if (!/^[0-9A-Za-z-]{1,64}$/.test(id)) {
    showError('A trace ID is hexadecimal (or an X-Ray ID like 1-5f84c7a1-…); that is not one.');
    return;
  }
  input.value = '';
  input.blur();
  navigate(`/trace/${encodeURIComponent(id)}`);
});

document.getElementById('banner-close').addEventListener('click', clearError);
document.getElementById('help-btn').addEventListener('click', toggleHelp);

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === 'Escape' && isTyping(e)) {
    if (e.target.type === 'search' && e.target.value) return; // the field clears itself first
    e.target.blur();
    return;
  }
  if (isTyping(e)) return;
  if (e.key === '?') {
    e.preventDefault();
    toggleHelp();
    return;
  }
  if (e.key === '/' && page && page.focusSearch) {
    e.preventDefault();
    page.focusSearch();
    return;
  }
  if (page && page.onKey) page.onKey(e);
});

startRouter();
