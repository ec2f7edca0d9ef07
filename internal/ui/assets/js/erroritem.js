// The error item page (/errors/{id}): the item's counts over time, triage (resolve, mute,
// reopen, assign), the latest occurrence (exception chain with stack frames and code
// context, request, person, server, telemetry, a link to its trace), breakdowns, every
// occurrence (a page at a time, newest first), the history, the grouping explanation and the raw report. Everything the
// report says is shown as text.
import { h, clear, append } from './dom.js';
import { getJSON, sendJSON } from './api.js';
import { busy, showError, emptyState, loadingState } from './shell.js';
import { formatDateTime, formatRelative, formatCount } from './format.js';
import { levelBadge, statusBadge, bars } from './errorviews.js';

const BREAKDOWNS = [['code_version', 'Code version'], ['environment', 'Environment'], ['host', 'Server'], ['browser', 'Browser'],
  ['os', 'OS'], ['context', 'Context'], ['person', 'Person'], ['user_ip', 'IP address']];

const PAGE = 100; // occurrences fetched at once

const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);
const str = (v) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const when = (iso) => formatDateTime(Date.parse(iso));
const traceHref = (o) => `/trace/${encodeURIComponent(o.traceID)}${o.spanID ? `?span=${encodeURIComponent(o.spanID)}` : ''}`;

export class ErrorItemPage {
  mount(root, route) {
    this.id = route.id;
    this.abort = new AbortController();
    this.scale = 'hourly';
    this.el = h('div', { class: 'error-page' }, loadingState('Loading item…'));
    root.appendChild(this.el);
    this.load();
  }

  unmount() {
    this.abort.abort();
    this.el.remove();
  }

  async load() {
    try {
      [this.detail, this.occurrences] = await busy(Promise.all([
        getJSON(`/api/v1/errors/items/${encodeURIComponent(this.id)}`, null, this.abort.signal),
        this.occurrencePage(0)]));
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(this.el);
      this.el.appendChild(emptyState(err.status === 404 ? 'Item not found' : 'Could not load the item', err.message, 'is-error'));
      return;
    }
    this.render();
  }

  render() {
    const { item } = this.detail;
    document.title = `#${item.counter} ${item.title} · lookout`;
    const latest = this.occurrences[0];
    clear(this.el);
    append(this.el, [
      this.header(item),
      this.graph(),
      h('div', { class: 'error-cols' },
        h('div', { class: 'error-main' },
          latest ? this.occurrence(latest) : null,
          this.occurrenceList()),
        h('aside', { class: 'error-side' },
          this.breakdowns(),
          section('Grouping', h('p', { class: 'mono small wrap' }, item.grouping), h('div', { class: 'muted small mono' }, `fingerprint ${item.fingerprint}`)),
          this.history()))]);
  }

  header(item) {
    const version = h('input', { type: 'text', placeholder: 'in version (optional)', 'aria-label': 'Resolved in version', class: 'version-input' });
    const assignee = h('input', { type: 'text', placeholder: 'Assign to…', 'aria-label': 'Assign to', value: item.assignedTo || '' });
    const act = (label, body, primary) => h('button', { type: 'button', class: `btn btn-small${primary ? ' btn-primary' : ''}`, onClick: () => this.triage(body()) }, label);
    const actions = item.status === 'active'
      ? [version, act('Resolve', () => ({ status: 'resolved', resolvedInVersion: version.value.trim() }), true), act('Mute', () => ({ status: 'muted' }))]
      : [act(item.status === 'muted' ? 'Unmute' : 'Reopen', () => ({ status: 'active' }), true)];
    return h('header', { class: 'error-head' },
      h('div', { class: 'error-titles' },
        h('div', { class: 'muted small' }, h('a', { href: `/errors?project=${encodeURIComponent(item.project)}`, 'data-nav': true }, item.project), ` · #${item.counter} · ${item.environment}`,
          item.language ? ` · ${item.language}` : '', item.framework ? ` · ${item.framework}` : ''),
        h('h1', { class: 'error-title' }, item.title),
        h('div', { class: 'error-facts' }, levelBadge(item.level), statusBadge(item.status),
          item.resolvedInVersion ? h('span', { class: 'muted' }, `in ${item.resolvedInVersion}`) : null,
          h('span', null, `${formatCount(item.total)} occurrences`), h('span', null, `${formatCount(item.people)} people`),
          h('span', { class: 'muted' }, `first ${formatRelative(Date.parse(item.firstSeen) * 1000)}, last ${formatRelative(Date.parse(item.lastSeen) * 1000)}`),
          item.assignedTo ? h('span', null, `assigned to ${item.assignedTo}`) : null)),
      h('div', { class: 'error-actions' }, actions,
        h('form', { class: 'assign', onSubmit: (e) => { e.preventDefault(); this.triage({ assignedTo: assignee.value.trim() }); } }, assignee)));
  }

  async triage(body) {
    try {
      await busy(sendJSON(`/api/v1/errors/items/${encodeURIComponent(this.id)}`, body));
      await this.load();
    } catch (err) {
      showError(`Could not change the item: ${err.message}`);
    }
  }

  graph() {
    const { hourly, daily, now } = this.detail;
    const end = Date.parse(now);
    const hourlyBars = bars(hourly, (i) => formatDateTime(end - (hourly.length - i) * 3600e3));
    const dailyBars = bars(daily, (i) => formatDateTime(end - (daily.length - i) * 86400e3).slice(0, 10));
    dailyBars.setAttribute('hidden', '');
    const toggle = (which) => {
      hourlyBars.toggleAttribute('hidden', which !== 'hourly');
      dailyBars.toggleAttribute('hidden', which !== 'daily');
      for (const b of buttons) b.classList.toggle('active', b.dataset.scale === which);
    };
    const buttons = [['hourly', 'Last 48 hours'], ['daily', 'Last 30 days']].map(([k, label]) =>
      h('button', { type: 'button', class: `seg${k === 'hourly' ? ' active' : ''}`, dataset: { scale: k }, onClick: () => toggle(k) }, label));
    return section('Occurrences', h('div', { class: 'seg-group' }, buttons), hourlyBars, dailyBars);
  }

  occurrence(o) {
    const d = isObj(o.data) ? o.data : {};
    const body = isObj(d.body) ? d.body : {};
    return h('div', { class: 'occurrence' },
      section(`Latest occurrence · ${when(o.time)}`,
        h('div', { class: 'occ-facts muted small' }, `uuid ${o.uuid}`, o.codeVersion ? ` · version ${o.codeVersion}` : '', o.host ? ` · ${o.host}` : '',
          o.traceID ? [' · ', h('a', { href: traceHref(o), 'data-nav': true, class: 'trace-link' }, 'Open its trace')] : ''),
        stack(body)),
      isObj(d.request) ? section('Request', request(d.request)) : null,
      isObj(d.person) ? section('Person', kvTable(d.person)) : null,
      isObj(d.server) ? section('Server', kvTable(d.server)) : null,
      isObj(d.client) ? section('Client', kvTable(d.client)) : null,
      Array.isArray(body.telemetry) && body.telemetry.length ? section('Telemetry', telemetry(body.telemetry)) : null,
      isObj(d.custom) ? section('Custom', kvTable(d.custom)) : null,
      o.traceID ? this.logsOf(o.traceID) : null,
      h('details', { class: 'raw' }, h('summary', null, 'Raw JSON'), h('pre', { class: 'mono' }, JSON.stringify(o.data, null, 2))));
  }

  // logsOf is a section that fills with the log lines of the trace, when lookout has any.
  logsOf(traceID) {
    const el = h('div', { hidden: true });
    getJSON('/api/v1/logs', new URLSearchParams({ traceID, limit: '200' }), this.abort.signal).then((records) => {
      if (!Array.isArray(records) || !records.length) return;
      el.replaceWith(section(`Log lines of this request (${formatCount(records.length)})`, h('table', { class: 'qtable' }, h('tbody', null,
        records.map((r) => h('tr', null, h('td', { class: 'muted small nowrap' }, when(r.time)), h('td', null, str(r.severityText)),
          h('td', { class: 'small' }, str(r.group)), h('td', { class: 'mono small wrap' }, str(r.body))))))));
    }).catch(() => {}); // a store without logs, or none yet: nothing to show
    return el;
  }

  /** occurrencePage fetches the item's occurrences from the offset-th newest, a page of them. */
  async occurrencePage(offset) {
    const page = await getJSON(`/api/v1/errors/items/${encodeURIComponent(this.id)}/occurrences`,
      new URLSearchParams({ limit: String(PAGE), offset: String(offset) }), this.abort.signal);
    return Array.isArray(page) ? page : [];
  }

  occurrenceList() {
    this.occTitle = h('h2', null);
    this.occRows = h('tbody', null, this.occurrences.map(occurrenceRow));
    this.occMore = h('button', { type: 'button', class: 'btn btn-small occ-more', onClick: () => this.showOlder() });
    this.occHasMore = this.occurrences.length === PAGE;
    this.updateOccurrenceCount();
    return h('section', { class: 'error-section occ-list' }, this.occTitle,
      h('table', { class: 'qtable' },
        h('thead', null, h('tr', null, ['Time', 'Version', 'Server', 'Person', 'Browser', 'Trace'].map((t) => h('th', null, t)))),
        this.occRows),
      this.occMore);
  }

  // showOlder adds the next page of older occurrences to the list. Those that arrived since
  // the list was fetched push the pages along: rows already listed are skipped.
  async showOlder() {
    this.occMore.disabled = true;
    let page;
    try {
      page = await busy(this.occurrencePage(this.occurrences.length));
    } catch (err) {
      if (err.name !== 'AbortError') showError(`Could not load older occurrences: ${err.message}`);
      this.occMore.disabled = false;
      return;
    }
    const shown = new Set(this.occurrences.map((o) => o.id));
    const fresh = page.filter((o) => !shown.has(o.id));
    this.occurrences.push(...fresh);
    append(this.occRows, fresh.map(occurrenceRow));
    this.occHasMore = page.length === PAGE;
    this.occMore.disabled = false;
    this.updateOccurrenceCount();
  }

  updateOccurrenceCount() {
    const n = this.occurrences.length;
    const total = Math.max(n, this.detail.item.total);
    this.occTitle.textContent = `Occurrences (${n < total ? `latest ${formatCount(n)} of ${formatCount(total)}` : formatCount(n)})`;
    this.occMore.hidden = !this.occHasMore || n >= total;
    this.occMore.textContent = `Show ${formatCount(Math.min(PAGE, total - n))} older`;
  }

  breakdowns() {
    const rows = BREAKDOWNS.map(([k, label]) => {
      const vals = (this.detail.breakdowns[k] || []).filter((v) => v.value !== '');
      if (!vals.length) return null;
      return h('div', { class: 'breakdown' }, h('h3', null, label),
        vals.map((v) => h('div', { class: 'bd-row' }, h('span', { class: 'bd-val' }, v.value), h('span', { class: 'muted' }, formatCount(v.count)))));
    });
    return section('Breakdowns', rows);
  }

  history() {
    return section('History', h('ol', { class: 'history' }, this.detail.events.map((e) => h('li', null,
      h('span', { class: 'muted small' }, when(e.time)), ' ', h('strong', null, e.kind),
      e.version ? ` in ${e.version}` : '', e.detail ? `: ${e.detail}` : '', e.by ? h('span', { class: 'muted' }, ` by ${e.by}`) : ''))));
  }
}

function occurrenceRow(o) {
  return h('tr', null,
    h('td', null, when(o.time)), h('td', null, o.codeVersion || ''), h('td', null, o.host || ''),
    h('td', null, o.person || ''), h('td', null, [o.browser, o.os].filter(Boolean).join(' · ')),
    h('td', null, o.traceID ? h('a', { href: traceHref(o), 'data-nav': true, class: 'mono' }, o.traceID.slice(0, 16)) : ''));
}

function section(title, ...children) {
  return h('section', { class: 'error-section' }, h('h2', null, title), children);
}

// stack renders body's exception chain (or message, or crash report) as text, the outermost
// exception first, each with its frames most recent first.
function stack(body) {
  const chain = Array.isArray(body.trace_chain) ? body.trace_chain : isObj(body.trace) ? [body.trace] : [];
  if (!chain.length) {
    if (isObj(body.message)) return h('pre', { class: 'mono wrap' }, str(body.message.body));
    if (isObj(body.crash_report)) return h('pre', { class: 'mono wrap' }, str(body.crash_report.raw));
    return null;
  }
  return chain.filter(isObj).map((t, i) => {
    const ex = isObj(t.exception) ? t.exception : {};
    const frames = Array.isArray(t.frames) ? t.frames.filter(isObj).slice().reverse() : [];
    return h('div', { class: 'exception' },
      h('div', { class: 'ex-head' }, i > 0 ? h('span', { class: 'muted' }, 'caused by ') : null, h('strong', null, str(ex.class)), ex.message ? `: ${str(ex.message)}` : ''),
      frames.map((f, j) => frame(f, j === 0)));
  });
}

function frame(f, open) {
  const where = `${str(f.filename)}${f.lineno != null ? `:${str(f.lineno)}` : ''}${f.colno != null ? `:${str(f.colno)}` : ''}`;
  const ctx = isObj(f.context) ? f.context : {};
  const pre = Array.isArray(ctx.pre) ? ctx.pre : [];
  const post = Array.isArray(ctx.post) ? ctx.post : [];
  const line = Number(f.lineno);
  const codeLines = f.code != null || pre.length || post.length
    ? h('pre', { class: 'mono frame-code' },
      pre.map((c, k) => h('div', null, `${Number.isFinite(line) ? String(line - pre.length + k).padStart(5) : '     '}  ${str(c)}`)),
      f.code != null ? h('div', { class: 'frame-line' }, `${Number.isFinite(line) ? String(line).padStart(5) : '     '}  ${str(f.code)}`) : null,
      post.map((c, k) => h('div', null, `${Number.isFinite(line) ? String(line + k + 1).padStart(5) : '     '}  ${str(c)}`)))
    : null;
  const locals = isObj(f.locals) ? kvTable(f.locals) : null;
  const summary = h('summary', null, h('span', { class: 'mono' }, where), f.method ? h('span', { class: 'muted' }, ` in ${str(f.method)}`) : '');
  return h('details', { class: 'frame', open: open || null }, summary, codeLines, locals);
}

function request(r) {
  const top = h('div', { class: 'mono small wrap' }, `${str(r.method)} ${str(r.url)}`);
  const rest = {};
  for (const k of Object.keys(r)) if (k !== 'method' && k !== 'url' && k !== 'headers') rest[k] = r[k];
  return [top, isObj(r.headers) ? [h('h3', null, 'Headers'), kvTable(r.headers)] : null, Object.keys(rest).length ? kvTable(rest) : null];
}

function telemetry(events) {
  return h('table', { class: 'qtable' }, h('tbody', null, events.filter(isObj).map((e) => h('tr', null,
    h('td', { class: 'muted small' }, Number.isFinite(e.timestamp_ms) ? formatDateTime(e.timestamp_ms) : ''),
    h('td', null, str(e.level)), h('td', null, str(e.type)), h('td', { class: 'mono small wrap' }, str(e.body))))));
}

function kvTable(obj) {
  return h('table', { class: 'kv' }, h('tbody', null, Object.keys(obj).map((k) => h('tr', null,
    h('th', null, k), h('td', { class: 'mono wrap' }, str(obj[k]))))));
}
