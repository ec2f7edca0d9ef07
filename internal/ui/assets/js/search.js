// The search page: the form on the left, the scatter and the results on the
// right. Its state lives in the URL (/search?...), so a search can be shared
// and the back button returns to it.
import { h, clear, setText } from './dom.js';
import { api } from './api.js';
import { navigate, setURL, showError, busy, emptyState, loadingState } from './shell.js';
import { LOOKBACKS, SORTS, defaultState, stateFromParams, paramsFromState, apiParams, traceStatus, MAX_LIMIT } from './query.js';
import { formatDuration, formatTime, formatRelative, formatClock, formatDateTime, parseDateTime, plural } from './format.js';
import { serviceColor, learnServices } from './colors.js';
import { Scatter } from './scatter.js';
import { serviceChip } from './widgets.js';

const LAST_SERVICE_KEY = 'lookout.lastService';
const LOG_SCALE_KEY = 'lookout.scatterLogScale';
const MAX_CHIPS = 8;

// Results of recent searches by URL, so the back button shows them again
// without a new query.
const resultCache = new Map();
const CACHE_TTL_MS = 5 * 60e3;

export class SearchPage {
  mount(root, route) {
    document.title = 'Search · lookout';
    this.abort = null;
    this.opsAbort = null;
    this.results = [];
    this.state = stateFromParams(route.params);
    this.servicesLoaded = false;

    const f = (this.fields = {});
    const field = (label, control, key, hint) => h('div', { class: 'field', dataset: { field: key } },
      h('label', { htmlFor: control.id }, label), control,
      hint ? h('div', { class: 'field-hint' }, hint) : null,
      h('div', { class: 'field-error', role: 'alert' }));

    f.service = h('select', { id: 'f-service', name: 'service', onChange: () => this.onServiceChange() },
      h('option', { value: '' }, 'Loading services…'));
    f.operation = h('select', { id: 'f-operation', name: 'operation' }, h('option', { value: '' }, 'All operations'));
    f.tags = h('input', { id: 'f-tags', name: 'tags', type: 'text', placeholder: 'http.status_code=500 error=true', spellcheck: 'false', autocomplete: 'off' });
    f.minDuration = h('input', { id: 'f-min', name: 'minDuration', type: 'text', placeholder: 'e.g. 100ms', spellcheck: 'false', autocomplete: 'off' });
    f.maxDuration = h('input', { id: 'f-max', name: 'maxDuration', type: 'text', placeholder: 'e.g. 2s', spellcheck: 'false', autocomplete: 'off' });
    f.lookback = h('select', { id: 'f-lookback', name: 'lookback', onChange: () => this.onLookbackChange() },
      LOOKBACKS.map(([k, label]) => h('option', { value: k }, label)));
    f.start = h('input', { id: 'f-start', name: 'start', type: 'text', placeholder: 'YYYY-MM-DD HH:MM:SS', spellcheck: 'false', autocomplete: 'off' });
    f.end = h('input', { id: 'f-end', name: 'end', type: 'text', placeholder: 'YYYY-MM-DD HH:MM:SS', spellcheck: 'false', autocomplete: 'off' });
    f.limit = h('input', { id: 'f-limit', name: 'limit', type: 'number', min: '1', max: String(MAX_LIMIT), step: '1' });

    this.customRange = h('div', { class: 'custom-range', hidden: true },
      field('From', f.start, 'start'), field('To', f.end, 'end'));

    this.form = h('form', { class: 'search-form', novalidate: true, onSubmit: (e) => { e.preventDefault(); this.submit(); } },
      h('h2', { class: 'form-title' }, 'Find traces'),
      field('Service', f.service, 'service'),
      field('Operation', f.operation, 'operation'),
      field('Tags', f.tags, 'tags', 'key=value pairs separated by spaces; quote values with spaces'),
      h('div', { class: 'field-row' }, field('Min duration', f.minDuration, 'minDuration'), field('Max duration', f.maxDuration, 'maxDuration')),
      field('Time range', f.lookback, 'lookback'),
      this.customRange,
      field('Limit', f.limit, 'limit'),
      h('button', { type: 'submit', class: 'btn btn-primary btn-block', id: 'find-traces' }, 'Find traces'));

    this.sortSelect = h('select', { id: 'f-sort', 'aria-label': 'Sort results', onChange: () => this.onSortChange() },
      SORTS.map(([k, label]) => h('option', { value: k }, label)));
    this.summary = h('div', { class: 'results-summary' });
    this.chartEl = h('div', { class: 'scatter', 'aria-label': 'Trace duration over time' });
    this.chartWrap = h('div', { class: 'scatter-wrap', hidden: true }, this.chartEl);
    this.list = h('div', { class: 'results-body' });
    this.logToggle = h('input', { type: 'checkbox', id: 'f-log', onChange: () => this.onLogChange() });
    this.resultsHead = h('div', { class: 'results-head', hidden: true },
      this.summary,
      h('label', { class: 'toggle', title: 'Logarithmic duration axis' }, this.logToggle, 'Log scale'),
      h('label', { class: 'sort' }, 'Sort ', this.sortSelect));

    this.el = h('div', { class: 'search-page' },
      h('aside', { class: 'search-side' }, this.form),
      h('section', { class: 'search-results', 'aria-live': 'polite' }, this.resultsHead, this.chartWrap, this.list));
    root.appendChild(this.el);

    this.scatter = new Scatter(this.chartEl, {
      onOpen: (s) => navigate(`/trace/${encodeURIComponent(s.traceID)}`),
      onHover: (id) => this.hoverResult(id),
    });

    try { this.logToggle.checked = localStorage.getItem(LOG_SCALE_KEY) === '1'; } catch { /* storage disabled */ }
    this.scatter.setLog(this.logToggle.checked);
    this.fillForm(this.state);
    this.servicesLoading = this.loadServices();
    this.runFromRoute(route);
  }

  update(route) {
    this.state = stateFromParams(route.params);
    this.fillForm(this.state);
    if (this.servicesLoaded) this.syncServiceOptions();
    this.runFromRoute(route);
    return true;
  }

  unmount() {
    if (this.abort) this.abort.abort();
    if (this.opsAbort) this.opsAbort.abort();
    this.scatter.dispose();
    this.el.remove();
  }

  focusSearch() {
    this.fields.tags.focus();
    this.fields.tags.select();
  }

  // ---- form ----

  fillForm(s) {
    const f = this.fields;
    f.tags.value = s.tags;
    f.minDuration.value = s.minDuration;
    f.maxDuration.value = s.maxDuration;
    f.lookback.value = s.lookback;
    f.limit.value = String(s.limit);
    f.start.value = s.start ? formatDateTime(Number(s.start) / 1000) : '';
    f.end.value = s.end ? formatDateTime(Number(s.end) / 1000) : '';
    this.customRange.hidden = s.lookback !== 'custom';
    this.sortSelect.value = s.sort;
    this.clearFieldErrors();
  }

  readForm() {
    const f = this.fields;
    return {
      ...defaultState(),
      service: f.service.value,
      operation: f.service.value ? f.operation.value : '',
      tags: f.tags.value.trim(),
      minDuration: f.minDuration.value.trim(),
      maxDuration: f.maxDuration.value.trim(),
      lookback: f.lookback.value,
      start: f.lookback.value === 'custom' && f.start.value ? String(parseDateTime(f.start.value) * 1000) : '',
      end: f.lookback.value === 'custom' && f.end.value ? String(parseDateTime(f.end.value) * 1000) : '',
      limit: parseInt(f.limit.value, 10) || defaultState().limit,
      sort: this.sortSelect.value,
    };
  }

  submit() {
    const s = this.readForm();
    this.clearFieldErrors();
    const r = apiParams(s);
    if (r.error) {
      this.fieldError(r.field, r.error);
      return;
    }
    if (s.service) {
      try { localStorage.setItem(LAST_SERVICE_KEY, s.service); } catch { /* storage disabled */ }
    }
    navigate(`/search?${paramsFromState(s)}`);
  }

  fieldError(key, msg) {
    const el = this.form.querySelector(`[data-field="${key}"]`);
    if (!el) {
      showError(msg);
      return;
    }
    el.classList.add('has-error');
    setText(el.querySelector('.field-error'), msg);
    const input = el.querySelector('input, select');
    if (input) input.focus();
  }

  clearFieldErrors() {
    for (const el of this.form.querySelectorAll('.has-error')) {
      el.classList.remove('has-error');
      setText(el.querySelector('.field-error'), '');
    }
  }

  onLookbackChange() {
    const custom = this.fields.lookback.value === 'custom';
    this.customRange.hidden = !custom;
    if (custom && !this.fields.start.value) {
      const now = Date.now();
      this.fields.start.value = formatDateTime(now - 3600e3);
      this.fields.end.value = formatDateTime(now);
    }
  }

  async loadServices() {
    let services;
    try {
      services = await busy(api.services());
    } catch (err) {
      showError(`Could not load services: ${err.message}`);
      services = [];
    }
    if (!this.el.isConnected) return;
    learnServices(services);
    this.services = services;
    this.servicesLoaded = true;
    this.syncServiceOptions();
    if (!services.length && !this.searched) {
      clear(this.list).appendChild(emptyState('No services yet',
        'Send traces to lookout (OTLP on :4318 or :4317) and they appear here within a second.'));
    }
  }

  // syncServiceOptions fills the service select, keeping the URL's service
  // even when the API does not list it.
  syncServiceOptions() {
    const f = this.fields;
    let want = this.state.service;
    if (!want && !this.searched) {
      try { want = localStorage.getItem(LAST_SERVICE_KEY) || ''; } catch { want = ''; }
      if (!this.services.includes(want)) want = '';
    }
    const names = [...this.services];
    if (want && !names.includes(want)) names.unshift(want);
    clear(f.service).append(
      h('option', { value: '' }, 'All services'),
      ...names.map((n) => h('option', { value: n }, n)));
    f.service.value = want;
    this.onServiceChange(this.state.operation);
  }

  async onServiceChange(keepOperation = '') {
    const f = this.fields;
    const service = f.service.value;
    if (this.opsAbort) this.opsAbort.abort();
    clear(f.operation).appendChild(h('option', { value: '' }, 'All operations'));
    f.operation.disabled = !service;
    if (!service) return;
    const ac = (this.opsAbort = new AbortController());
    let ops = [];
    try {
      ops = await api.operations(service, ac.signal);
    } catch (err) {
      if (err.name === 'AbortError') return;
      showError(`Could not load operations of ${service}: ${err.message}`);
    }
    if (ac.signal.aborted) return;
    if (keepOperation && !ops.includes(keepOperation)) ops.unshift(keepOperation);
    f.operation.append(...ops.map((o) => h('option', { value: o }, o)));
    f.operation.value = keepOperation || '';
  }

  // ---- results ----

  runFromRoute(route) {
    if ([...route.params.keys()].length === 0) {
      this.searchOnArrival();
      return;
    }
    const key = route.params.toString();
    const cached = resultCache.get(key);
    if (route.pop && cached && Date.now() - cached.at < CACHE_TTL_MS) {
      this.searched = true;
      this.showResults(cached.results, cached.ms, cached.at, cached.range);
      return;
    }
    this.search(key);
  }

  /** searchOnArrival shows the traces of the last hour (of the service last searched, if any) on a bare /search. */
  async searchOnArrival() {
    this.searched = false;
    this.resultsHead.hidden = true;
    this.chartWrap.hidden = true;
    clear(this.list).appendChild(loadingState('Loading recent traces…'));
    await this.servicesLoading;
    // No services: loadServices has said so. A search started meanwhile wins.
    if (!this.el.isConnected || this.searched || !this.services.length) return;
    this.state = { ...defaultState(), service: this.fields.service.value };
    this.search(paramsFromState(this.state).toString());
  }

  showIntro() {
    this.searched = false;
    this.resultsHead.hidden = true;
    this.chartWrap.hidden = true;
    clear(this.list).appendChild(emptyState('Search for traces',
      'Pick a service, add tags such as error=true, and press Find traces. The URL keeps the search, so you can share it.'));
  }

  async search(key) {
    const r = apiParams(this.state);
    if (r.error) {
      this.showIntro();
      this.fieldError(r.field, r.error);
      return;
    }
    this.searched = true;
    if (this.abort) this.abort.abort();
    const ac = (this.abort = new AbortController());
    this.resultsHead.hidden = true;
    this.chartWrap.hidden = true;
    clear(this.list).appendChild(loadingState('Searching…'));
    this.el.classList.add('is-loading');
    const t0 = performance.now();
    let results;
    try {
      results = await busy(api.traceSummaries(r.params, ac.signal));
    } catch (err) {
      if (err.name === 'AbortError') return;
      showError(`Search failed: ${err.message}`);
      clear(this.list).appendChild(emptyState('Search failed', 'The message above says why. Change the search and try again.', 'is-error'));
      return;
    } finally {
      if (this.abort === ac) this.el.classList.remove('is-loading');
    }
    if (ac.signal.aborted) return;
    const ms = performance.now() - t0;
    results = results.filter((s) => s && s.traceID);
    const range = { start: Number(r.params.get('start')) / 1000, end: Number(r.params.get('end')) / 1000, limit: Number(r.params.get('limit')) };
    resultCache.set(key, { results, ms, at: Date.now(), range });
    if (resultCache.size > 20) resultCache.delete(resultCache.keys().next().value);
    this.showResults(results, ms, Date.now(), range);
  }

  /** showResults lists results, fetched at `at` (ms since the epoch) for range {start, end (ms since the epoch), limit}, the search having taken ms milliseconds. */
  showResults(results, ms, at, range) {
    this.results = results;
    clear(this.list);
    if (!results.length) {
      this.resultsHead.hidden = true;
      this.chartWrap.hidden = true;
      this.list.appendChild(emptyState('No traces found',
        'Try a longer time range, fewer tags, another operation, or a lower min duration.'));
      return;
    }
    const lb = LOOKBACKS.find(([k]) => k === this.state.lookback);
    clear(this.summary).append(
      h('strong', null, plural(results.length, 'trace')),
      h('span', { class: 'muted' }, ` · ${lb && lb[0] !== 'custom' ? lb[1].toLowerCase() : 'custom range'} · ${Math.round(ms)} ms`));
    if (Date.now() - at > 5e3) this.summary.appendChild(h('span', { class: 'muted' }, ` · fetched ${formatRelative(at * 1000)}`));
    if (results.length >= range.limit) {
      this.summary.appendChild(h('div', { class: 'muted small', id: 'results-sampled' },
        `More traces match than the limit of ${range.limit}: these are spread across the time range. Narrow the search or raise the limit to see more.`));
    }
    this.resultsHead.hidden = false;
    this.chartWrap.hidden = false;
    this.fetchedAt = at;
    this.scatter.setData(results, range.start, range.end).catch((err) => showError(`Could not draw the chart: ${err.message}`));
    this.renderList();
  }

  onLogChange() {
    const log = this.logToggle.checked;
    try { localStorage.setItem(LOG_SCALE_KEY, log ? '1' : '0'); } catch { /* storage disabled */ }
    this.scatter.setLog(log);
  }

  onSortChange() {
    this.state.sort = this.sortSelect.value;
    if (this.searched) setURL(`/search?${paramsFromState(this.state)}`);
    this.renderList();
  }

  renderList() {
    const sorted = sortResults(this.results, this.state.sort);
    const maxDur = Math.max(1, ...sorted.map((s) => s.duration || 0));
    const ol = h('ol', { class: 'results' }, sorted.map((s) => resultItem(s, maxDur, this.fetchedAt, Date.now())));
    ol.addEventListener('mouseover', (e) => {
      const li = e.target instanceof Element && e.target.closest('.result');
      this.scatter.highlight(li ? li.dataset.traceId : null);
    });
    ol.addEventListener('mouseleave', () => this.scatter.highlight(null));
    clear(this.list).appendChild(ol);
  }

  hoverResult(traceID) {
    for (const li of this.list.querySelectorAll('.result.is-hover')) li.classList.remove('is-hover');
    if (!traceID) return;
    for (const li of this.list.querySelectorAll('.result')) {
      if (li.dataset.traceId === traceID) li.classList.add('is-hover');
    }
  }
}

/** sortResults orders summaries by one of SORTS. */
export function sortResults(results, sort) {
  const r = [...results];
  const by = {
    recent: (a, b) => b.start - a.start,
    longest: (a, b) => b.duration - a.duration,
    shortest: (a, b) => a.duration - b.duration,
    spans: (a, b) => b.spanCount - a.spanCount,
    errors: (a, b) => b.errorCount - a.errorCount || b.start - a.start,
  }[sort] || ((a, b) => b.start - a.start);
  return r.sort(by);
}

// resultItem renders a summary found at fetchedAt (ms), with how long ago it was as of now.
function resultItem(s, maxDur, fetchedAt, now) {
  const services = Array.isArray(s.services) ? [...s.services].sort((a, b) => (b.spanCount || 0) - (a.spanCount || 0)) : [];
  const chips = services.slice(0, MAX_CHIPS).map((svc) => serviceChip(svc.name, svc.spanCount));
  if (services.length > MAX_CHIPS) chips.push(h('span', { class: 'chip chip-more' }, `+${services.length - MAX_CHIPS} more`));
  const errors = s.errorCount || 0;
  const status = traceStatus(s, fetchedAt);
  const pct = Math.max(0.5, ((s.duration || 0) / maxDur) * 100);
  return h('li', { class: errors ? 'result has-errors' : 'result', dataset: { traceId: String(s.traceID) } },
    h('a', { class: 'result-link', href: `/trace/${encodeURIComponent(s.traceID)}`, 'data-nav': true },
      h('div', { class: 'result-main' },
        h('div', { class: 'result-title' },
          h('span', { class: 'swatch', style: { background: serviceColor(s.rootService || '') } }),
          h('span', { class: 'result-svc' }, s.rootService || '(unknown service)'),
          h('span', { class: 'result-op' }, s.rootName || '(missing root span)'),
          status ? h('span', { class: `badge badge-${status.kind}`, title: status.title }, status.text) : null,
          h('span', { class: 'result-id mono' }, String(s.traceID).slice(0, 8))),
        h('div', { class: 'chips' }, chips)),
      h('div', { class: 'result-stats' },
        h('div', { class: 'result-dur' }, formatDuration(s.duration)),
        h('div', { class: 'durbar', 'aria-hidden': 'true' }, h('span', { style: { width: `${pct}%` } })),
        h('div', { class: 'result-counts' },
          plural(s.spanCount || 0, 'span'),
          errors ? h('span', { class: 'err-count' }, ` · ${plural(errors, 'error')}`) : null)),
      h('div', { class: 'result-when', title: formatTime(s.start) },
        h('div', null, formatRelative(s.start, now)),
        h('div', { class: 'muted mono' }, formatClock(s.start)))));
}
