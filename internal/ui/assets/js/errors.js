// The error items page (/errors): Rollbar items with their counts and a sparkline of the
// last day, filtered by project, status, level, environment and text, sorted by last seen
// or count; with a project chosen, its code versions (items new, reactivated and resolved in
// each) and deploys. Its state lives in the URL.
import { h, clear, debounce } from './dom.js';
import { getJSON, getPage } from './api.js';
import { navigate, setURL, busy, showError, emptyState, loadingState } from './shell.js';
import { formatRelative, formatDateTime, formatCount, plural } from './format.js';
import { levelBadge, statusBadge, sparkline } from './errorviews.js';

const FILTERS = ['project', 'status', 'level', 'environment', 'q', 'sort'];
const PAGE = 100;

export class ErrorsPage {
  mount(root, route) {
    document.title = 'Errors · lookout';
    this.abort = null;
    const sel = (name, label, options) => h('select', { name, 'aria-label': label, onChange: () => this.apply() },
      options.map(([v, text]) => h('option', { value: v }, text)));
    const f = (this.fields = {
      project: sel('project', 'Project', [['', 'All projects']]),
      status: sel('status', 'Status', [['active', 'Active'], ['resolved', 'Resolved'], ['muted', 'Muted'], ['', 'Any status']]),
      level: sel('level', 'Level', [['', 'Any level'], ['critical', 'Critical'], ['error', 'Error'], ['warning', 'Warning'], ['info', 'Info'], ['debug', 'Debug']]),
      environment: h('input', { name: 'environment', type: 'text', placeholder: 'Environment', spellcheck: 'false', 'aria-label': 'Environment', onInput: debounce(() => this.apply(), 300) }),
      q: h('input', { name: 'q', type: 'search', placeholder: 'Search titles…', spellcheck: 'false', 'aria-label': 'Search titles', onInput: debounce(() => this.apply(), 300) }),
      sort: sel('sort', 'Sort', [['last_seen', 'Last seen'], ['count', 'Most occurrences'], ['first_seen', 'First seen']]),
    });
    this.summary = h('div', { class: 'results-summary' });
    this.body = h('div', { class: 'errors-body' });
    this.releases = h('div', { class: 'errors-releases' });
    this.el = h('div', { class: 'errors-page' },
      h('div', { class: 'errors-filters' }, h('h2', null, 'Errors'), f.project, f.status, f.level, f.environment, f.q, f.sort, this.summary,
        h('a', { href: '/errors/access', 'data-nav': true }, 'Projects and tokens')),
      this.body, this.releases);
    root.appendChild(this.el);
    this.loadProjects();
    this.update(route);
  }

  update(route) {
    const p = route.params;
    this.addProject(p.get('project'));
    for (const k of FILTERS) this.fields[k].value = p.get(k) ?? (k === 'status' ? 'active' : k === 'sort' ? 'last_seen' : '');
    this.load();
    return true;
  }

  unmount() {
    if (this.abort) this.abort.abort();
    this.el.remove();
  }

  focusSearch() { this.fields.q.focus(); }

  params() {
    const p = new URLSearchParams();
    for (const k of FILTERS) if (this.fields[k].value) p.set(k, this.fields[k].value);
    return p;
  }

  apply() {
    setURL(`/errors?${this.params()}`);
    this.load();
  }

  // addProject offers a project in the project filter, once.
  addProject(name) {
    const sel = this.fields.project;
    if (!name || [...sel.options].some((o) => o.value === name)) return;
    sel.appendChild(h('option', { value: name }, name.startsWith('token-') ? `${name} (from a new token)` : name));
  }

  async loadProjects() {
    try {
      const projects = await getJSON('/api/v1/errors/projects');
      for (const name of projects) this.addProject(name);
    } catch (err) {
      showError(`Could not list the projects: ${err.message}`);
    }
  }

  async load() {
    if (this.abort) this.abort.abort();
    const abort = (this.abort = new AbortController());
    this.loadReleases(abort.signal);
    const p = this.params();
    p.set('limit', String(PAGE));
    if (!this.body.firstChild) this.body.appendChild(loadingState('Loading items…'));
    let items;
    let total = 0;
    try {
      const body = await busy(getPage('/api/v1/errors/items', p, abort.signal));
      items = Array.isArray(body.data) ? body.data : [];
      total = body.total || 0;
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(this.body);
      this.body.appendChild(emptyState('Could not load the items', err.message, 'is-error'));
      return;
    }
    clear(this.body);
    this.summary.textContent = items.length < total ? `${formatCount(items.length)} of ${plural(total, 'item')}` : plural(total, 'item');
    if (!items.length) {
      this.body.appendChild(emptyState('No items', 'Point a Rollbar SDK at this lookout (its endpoint is http://HOST:4318/api/1/item/) or change the filters.'));
      return;
    }
    this.body.appendChild(h('table', { class: 'qtable errors-table' },
      h('thead', null, h('tr', null, ['Item', 'Level', 'Environment', 'Occurrences', 'People', 'Last 24 hours', 'First seen', 'Last seen', 'Status'].map((t) => h('th', null, t)))),
      h('tbody', null, items.map((it) => this.row(it)))));
  }

  // loadReleases shows the chosen project's versions and deploys.
  async loadReleases(signal) {
    clear(this.releases);
    const project = this.fields.project.value;
    if (!project) return;
    let versions;
    let deploys;
    try {
      const params = new URLSearchParams({ project });
      [versions, deploys] = await Promise.all([getJSON('/api/v1/errors/versions', params, signal), getJSON('/api/v1/errors/deploys', params, signal)]);
    } catch (err) {
      if (err.name !== 'AbortError') showError(`Could not load the project's versions: ${err.message}`);
      return;
    }
    const table = (title, heads, rows) => h('section', { class: 'error-section' }, h('h2', null, title),
      rows.length ? h('table', { class: 'qtable' }, h('thead', null, h('tr', null, heads.map((t) => h('th', null, t)))), h('tbody', null, rows))
        : h('div', { class: 'muted' }, 'None yet.'));
    this.releases.append(
      table('Versions', ['Version', 'First seen', 'Last seen', 'Occurrences', 'New items', 'Reactivated', 'Resolved in it'], versions.map((v) => h('tr', null,
        h('td', { class: 'mono' }, v.version), h('td', null, formatDateTime(Date.parse(v.firstSeen))), h('td', null, formatDateTime(Date.parse(v.lastSeen))),
        h('td', { class: 'num' }, formatCount(v.occurrences)), h('td', { class: 'num' }, formatCount(v.new)),
        h('td', { class: 'num' }, formatCount(v.reactivated)), h('td', { class: 'num' }, formatCount(v.resolved))))),
      table('Deploys', ['Started', 'Environment', 'Revision', 'Status', 'By', 'Comment'], deploys.map((d) => h('tr', null,
        h('td', null, formatDateTime(Date.parse(d.startTime))), h('td', null, d.environment), h('td', { class: 'mono' }, d.revision),
        h('td', null, d.status), h('td', null, d.rollbarUser || d.localUsername || ''), h('td', { class: 'wrap' }, d.comment || '')))));
  }

  row(it) {
    const href = `/errors/${encodeURIComponent(it.id)}`;
    return h('tr', { class: 'errors-row', onClick: (e) => { if (!e.target.closest('a')) navigate(href); } },
      h('td', { class: 'errors-title' },
        h('a', { href, 'data-nav': true }, h('span', { class: 'muted' }, `#${it.counter} `), it.title),
        h('div', { class: 'muted small' }, it.project, it.class ? ` · ${it.class}` : '')),
      h('td', null, levelBadge(it.level)),
      h('td', null, it.environment),
      h('td', { class: 'num' }, formatCount(it.total)),
      h('td', { class: 'num' }, formatCount(it.people)),
      h('td', null, sparkline(it.counts)),
      h('td', { title: formatDateTime(Date.parse(it.firstSeen)) }, formatRelative(Date.parse(it.firstSeen) * 1000)),
      h('td', { title: formatDateTime(Date.parse(it.lastSeen)) }, formatRelative(Date.parse(it.lastSeen) * 1000)),
      h('td', null, statusBadge(it.status)));
  }
}
