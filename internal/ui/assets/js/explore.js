// The query page (/query): Honeycomb's query builder over lookout's events.
// VISUALIZE, WHERE, GROUP BY, ORDER BY, HAVING and LIMIT are lists of short
// text clauses (hcquery.js reads them); the result is a chart per calculation
// (a heatmap for HEATMAP, where dragging a box opens BubbleUp), a results
// table, BubbleUp and the raw events, each leading to traces. The query lives
// in the URL; recent queries in this browser, saved ones on the server.
import { h, clear, setText, debounce } from './dom.js';
import { api } from './api.js';
import { setURL, showError, busy, emptyState, loadingState } from './shell.js';
import { loadECharts, tooltip, seriesRows, AXIS_LABEL, SPLIT_LINE } from './charts.js';
import { drawHeatmap } from './heatmap.js';
import { renderBubbleUp } from './bubbleup.js';
import { serviceColor, seriesColor, learnServices, PALETTE } from './colors.js';
import { columnFormat, formatMs, formatTime, formatTimeOfDay, formatTimeRange, timeAxisLabel } from './format.js';
import {
  parseCalc, formatFilter, parseFilter, parseOrder, formatOrder, parseHaving, formatHaving, calcKey,
  TIME_RANGES, GRANULARITIES, toParams, fromParams, normalize, groupLabel, groupFilters, CALC_OPS,
  calcIsDuration, isDurationField, fitTimeRange, rangeLabel,
} from './hcquery.js';

const HISTORY_KEY = 'lookout.queryHistory';
const MAX_HISTORY = 30;
const MAX_LINES = 10; // groups drawn per chart
const BUBBLE_FIELDS = 12;

function loadHistory() {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

function remember(dataset, query) {
  const entry = { dataset, query: normalize(query), at: Date.now() };
  const key = JSON.stringify([entry.dataset, entry.query]);
  const list = loadHistory().filter((e) => JSON.stringify([e.dataset, e.query]) !== key);
  list.unshift(entry);
  try {
    localStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(0, MAX_HISTORY)));
  } catch {
    // storage full or disabled: history is a convenience
  }
}

function describe(q) {
  const parts = [(q.calculations || [{ op: 'COUNT' }]).map(calcKey).join(', ')];
  if (q.filters && q.filters.length) parts.push('where ' + q.filters.map(formatFilter).join(q.filter_combination === 'OR' ? ' or ' : ' and '));
  if (q.breakdowns && q.breakdowns.length) parts.push('by ' + q.breakdowns.join(', '));
  return parts.join(' ');
}

/** valueFormat formats the values of calculation c alike, as a table column: durations with their unit. */
function valueFormat(c, values) {
  return columnFormat(values, { ms: calcIsDuration(c) });
}

/**
 * ClauseList edits one clause of the query as removable chips plus an input. Enter adds
 * the typed clause; Enter in an empty input (or the Run button) runs the query.
 */
class ClauseList {
  constructor({ label, placeholder, list, parse, format, suggest, run }) {
    this.items = [];
    this.parse = parse;
    this.format = format;
    this.input = h('input', { type: 'text', placeholder, list, spellcheck: 'false', autocomplete: 'off', 'aria-label': label,
      onKeydown: (e) => {
        if (e.key !== 'Enter') return;
        e.preventDefault();
        if (this.input.value.trim() === '') run();
        else this.commit();
      },
      onInput: () => suggest && suggest(this.input.value) });
    this.chips = h('span', { class: 'clause-chips' });
    this.el = h('div', { class: 'clause', dataset: { clause: label.toLowerCase().replace(/ /g, '-') } },
      h('span', { class: 'clause-label' }, label), this.chips, this.input);
  }

  /** commit adds what the input holds; it reports false (and shows why) when it cannot be read. */
  commit() {
    const text = this.input.value.trim();
    if (!text) return true;
    try {
      this.items.push(this.parse(text));
    } catch (err) {
      this.input.setCustomValidity(err.message);
      this.input.reportValidity();
      showError(err.message);
      return false;
    }
    this.input.setCustomValidity('');
    this.input.value = '';
    this.render();
    return true;
  }

  set(items) {
    this.items = items ? [...items] : [];
    this.render();
  }

  render() {
    clear(this.chips);
    this.items.forEach((it, i) => {
      this.chips.appendChild(h('span', { class: 'qchip' }, this.format(it),
        h('button', { type: 'button', class: 'qchip-x', 'aria-label': `Remove ${this.format(it)}`,
          onClick: () => { this.items.splice(i, 1); this.render(); } }, '×')));
    });
  }
}

export class ExplorePage {
  mount(root, route) {
    document.title = 'Query · lookout';
    this.charts = [];
    this.abort = null;
    this.result = null;
    this.columns = [];
    const state = fromParams(route.params);
    this.dataset = state.dataset;
    this.fitRange = !route.params.has('q'); // see run

    this.columnList = h('datalist', { id: 'hc-columns' });
    this.calcList = h('datalist', { id: 'hc-calcs' });
    this.filterList = h('datalist', { id: 'hc-filters' });
    this.calcs = new ClauseList({ run: () => this.run(), label: 'VISUALIZE', placeholder: 'COUNT, P99(duration_ms), HEATMAP(duration_ms)…', list: 'hc-calcs', parse: parseCalc, format: calcKey });
    this.filters = new ClauseList({ run: () => this.run(), label: 'WHERE', placeholder: 'http.status_code >= 500, db.system exists…', list: 'hc-filters', parse: parseFilter, format: formatFilter,
      suggest: debounce((t) => this.suggestValues(t), 200) });
    this.groups = new ClauseList({ run: () => this.run(), label: 'GROUP BY', placeholder: 'service.name, http.route…', list: 'hc-columns', parse: (t) => t.trim(), format: (s) => s });
    this.orders = new ClauseList({ run: () => this.run(), label: 'ORDER BY', placeholder: 'COUNT desc, http.route…', list: 'hc-calcs', parse: parseOrder, format: formatOrder });
    this.havings = new ClauseList({ run: () => this.run(), label: 'HAVING', placeholder: 'COUNT > 10…', parse: parseHaving, format: formatHaving });
    this.combination = h('select', { 'aria-label': 'Combine filters with', class: 'combine' }, h('option', { value: 'AND' }, 'all (AND)'), h('option', { value: 'OR' }, 'any (OR)'));
    this.limit = h('input', { type: 'number', min: '1', max: '1000', placeholder: '100', 'aria-label': 'LIMIT', class: 'limit' });
    this.range = h('select', { 'aria-label': 'Time range' }, TIME_RANGES.map(([s, l]) => h('option', { value: String(s) }, l)));
    this.granularity = h('select', { 'aria-label': 'Granularity' }, GRANULARITIES.map(([s, l]) => h('option', { value: String(s) }, `every ${l}`)));
    this.datasetSel = h('select', { 'aria-label': 'Dataset', onChange: () => { this.dataset = this.datasetSel.value; this.loadColumns(); } },
      h('option', { value: '' }, 'All datasets'));
    this.filters.el.insertBefore(this.combination, this.filters.input);

    this.status = h('span', { class: 'qstatus muted', role: 'status' });
    this.saveName = h('input', { type: 'text', placeholder: 'Name this query', 'aria-label': 'Saved query name', class: 'save-name' });
    const builder = h('form', { class: 'qbuilder', novalidate: true, onSubmit: (e) => { e.preventDefault(); this.run(); } },
      h('div', { class: 'qrow' }, h('span', { class: 'clause-label' }, 'DATASET'), this.datasetSel,
        h('span', { class: 'clause-label' }, 'TIME'), this.range, this.granularity),
      this.calcs.el, this.filters.el, this.groups.el, this.orders.el,
      h('div', { class: 'qrow' }, this.havings.el, h('span', { class: 'clause-label' }, 'LIMIT'), this.limit),
      h('div', { class: 'qrow qactions' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'run-query' }, 'Run query'),
        this.status, h('span', { class: 'grow' }),
        this.saveName, h('button', { type: 'button', class: 'btn', id: 'save-query', onClick: () => this.save() }, 'Save')),
      this.columnList, this.calcList, this.filterList);

    this.tabs = {};
    this.panels = {};
    const tabBar = h('div', { class: 'tabs', role: 'tablist' });
    for (const [key, label] of [['overview', 'Overview'], ['bubbleup', 'BubbleUp'], ['events', 'Events']]) {
      this.tabs[key] = h('button', { type: 'button', role: 'tab', class: 'tab', dataset: { tab: key }, onClick: () => this.showTab(key) }, label);
      this.panels[key] = h('div', { class: `tabpanel tab-${key}`, role: 'tabpanel', hidden: true });
      tabBar.appendChild(this.tabs[key]);
    }
    this.savedList = h('ul', { class: 'qlist' });
    this.historyList = h('ul', { class: 'qlist' });
    this.root = h('div', { class: 'explore' },
      h('aside', { class: 'qside' }, h('h3', null, 'Saved queries'), this.savedList, h('h3', null, 'Recent'), this.historyList),
      h('section', { class: 'qmain' }, builder, tabBar, Object.values(this.panels)));
    root.appendChild(this.root);

    this.setQuery(state.query);
    this.showTab('overview');
    this.renderHistory();
    this.loadSaved();
    this.loadDatasets().then(() => this.loadColumns());
    this.run({ push: false });
  }

  update(route) {
    this.fitRange = !route.params.has('q');
    const state = fromParams(route.params);
    this.dataset = state.dataset;
    this.datasetSel.value = this.dataset;
    this.setQuery(state.query);
    this.run({ push: false });
    return true;
  }

  unmount() {
    if (this.abort) this.abort.abort();
    this.disposeCharts();
    this.root.remove();
  }

  focusSearch() {
    this.filters.input.focus();
  }

  setQuery(q) {
    this.calcs.set(q.calculations);
    this.filters.set(q.filters);
    this.groups.set(q.breakdowns);
    this.orders.set(q.orders);
    this.havings.set(q.havings);
    this.combination.value = q.filter_combination === 'OR' ? 'OR' : 'AND';
    this.limit.value = q.limit ? String(q.limit) : '';
    this.setRange(q.time_range > 0 ? q.time_range : 3600);
    this.granularity.value = String(GRANULARITIES.some(([s]) => s === q.granularity) ? q.granularity : 0);
    this.absolute = q.start_time && q.end_time ? { start_time: q.start_time, end_time: q.end_time } : null;
  }

  /** query reads the builder. Text still in an input counts, as if Enter had been pressed. */
  query() {
    for (const c of [this.calcs, this.filters, this.groups, this.orders, this.havings]) {
      if (!c.commit()) return null;
    }
    const q = {
      calculations: this.calcs.items, filters: this.filters.items, breakdowns: this.groups.items,
      orders: this.orders.items, havings: this.havings.items, filter_combination: this.combination.value,
      limit: Number(this.limit.value) || 0, granularity: Number(this.granularity.value) || 0,
    };
    if (this.absolute) Object.assign(q, this.absolute);
    else q.time_range = Number(this.range.value);
    return normalize(q);
  }

  async loadDatasets() {
    try {
      const ds = await api.datasets();
      for (const d of ds || []) this.datasetSel.appendChild(h('option', { value: d.name }, d.name));
      this.datasetSel.value = this.dataset;
    } catch (err) {
      showError(err.message);
    }
  }

  async loadColumns() {
    try {
      this.columns = (await api.columns(this.dataset)) || [];
    } catch (err) {
      showError(err.message);
      return;
    }
    clear(this.columnList);
    clear(this.calcList);
    const numeric = this.columns.filter((c) => c.type === 'integer' || c.type === 'float');
    for (const c of this.columns) this.columnList.appendChild(h('option', { value: c.name }));
    for (const op of ['COUNT', 'CONCURRENCY']) this.calcList.appendChild(h('option', { value: op }));
    for (const c of numeric) {
      for (const op of CALC_OPS.filter((o) => o !== 'COUNT' && o !== 'CONCURRENCY' && o !== 'COUNT_DISTINCT')) this.calcList.appendChild(h('option', { value: `${op}(${c.name})` }));
    }
    for (const c of this.columns) this.calcList.appendChild(h('option', { value: `COUNT_DISTINCT(${c.name})` }));
    this.suggestValues('');
  }

  /** suggestValues offers field names, then, once a field and an operator are typed, its frequent values. */
  async suggestValues(text) {
    const m = /^(\S+)\s*(=|!=|starts-with|in|not-in)\s*(.*)$/.exec(text);
    clear(this.filterList);
    if (!m) {
      for (const c of this.columns) this.filterList.appendChild(h('option', { value: `${c.name} ` }));
      return;
    }
    try {
      const values = await api.values(this.dataset, m[1], m[3]);
      for (const v of values || []) this.filterList.appendChild(h('option', { value: `${m[1]} ${m[2]} ${v}` }));
    } catch {
      // suggestions are optional
    }
  }

  showTab(key) {
    for (const k in this.tabs) {
      this.tabs[k].classList.toggle('active', k === key);
      this.tabs[k].setAttribute('aria-selected', String(k === key));
      this.panels[k].hidden = k !== key;
    }
    this.tab = key;
    if (key === 'overview') for (const c of this.charts) c.resize();
  }

  /** setRange selects a relative range of seconds, adding it to the choices when it is not one of them. */
  setRange(seconds) {
    for (const o of this.range.querySelectorAll('option[data-fitted]')) o.remove();
    if (!TIME_RANGES.some(([s]) => s === seconds)) {
      this.range.appendChild(h('option', { value: String(seconds), dataset: { fitted: '' } }, rangeLabel(seconds)));
    }
    this.range.value = String(seconds);
  }

  /**
   * run runs the query in the builder. Opened without a query in its URL, the page starts
   * with the default one over the last hour; when lookout holds events for only a part of
   * that hour (it started minutes ago), the range shrinks to fit them, and a note says so.
   */
  async run({ push = true, fitted = null } = {}) {
    const q = this.query();
    if (!q) return;
    const fitting = this.fitRange; // only the page's first run, whose query nobody chose
    this.fitRange = false;
    this.fitNote = fitted && h('div', { class: 'notice', role: 'status', id: 'fit-note' },
      `lookout has events for this query since ${formatTimeOfDay(fitted.since)} only, so this shows the ${rangeLabel(fitted.time_range).toLowerCase()} rather than the last hour. `,
      h('button', { type: 'button', class: 'link-btn', onClick: () => { this.setRange(3600); this.run(); } }, 'Show the last hour'));
    if (push) setURL(`/query?${toParams(this.dataset, q)}`);
    if (!fitting) {
      remember(this.dataset, q);
      this.renderHistory();
    }
    this.q = q;
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    setText(this.status, 'Running…');
    clear(this.panels.overview).appendChild(loadingState('Running the query…'));
    this.showTab('overview');
    try {
      const res = await busy(api.query(this.dataset, q, signal));
      if (signal.aborted) return;
      this.result = res;
      const fit = fitting ? fitTimeRange(q, res) : null;
      if (fit) {
        this.setRange(fit.time_range);
        this.run({ fitted: fit });
        return;
      }
      setText(this.status, `${res.results.length} ${res.results.length === 1 ? 'group' : 'groups'} · ${res.millis} ms`);
      await this.renderOverview(q, res);
    } catch (err) {
      if (err.name === 'AbortError') return;
      setText(this.status, '');
      clear(this.panels.overview).appendChild(emptyState('The query failed', err.message));
      showError(err.message);
    }
  }

  disposeCharts() {
    for (const c of this.charts) c.dispose();
    this.charts = [];
  }

  async renderOverview(q, res) {
    const echarts = await loadECharts();
    const panel = clear(this.panels.overview);
    this.disposeCharts();
    if (this.fitNote) panel.appendChild(this.fitNote);
    if (!res.results.length) {
      panel.appendChild(emptyState('No events match', 'Widen the time range or remove a filter.'));
      return;
    }
    const calcs = q.calculations || [{ op: 'COUNT' }];
    const breakdowns = q.breakdowns || [];
    const groups = res.results.slice(0, MAX_LINES).map((r) => groupLabel(breakdowns, r.data));
    for (const c of calcs) {
      const key = calcKey(c);
      const box = h('div', { class: 'qchart', dataset: { calc: key } });
      const card = h('div', { class: 'qchart-card' }, h('div', { class: 'qchart-title' }, key,
        c.op === 'HEATMAP' ? h('span', { class: 'muted small' }, ' · drag a box to BubbleUp') : null), box);
      panel.appendChild(card);
      const chart = echarts.init(box, null, { renderer: 'canvas' });
      this.charts.push(chart);
      if (c.op === 'HEATMAP') {
        const legend = drawHeatmap(chart, box, res, key, {
          ms: isDurationField(c.column),
          onSelect: ({ start, end, lower, upper, values }) => this.bubbleUp(
            { start, end, filters: [{ column: c.column, op: '>=', value: lower }, { column: c.column, op: '<=', value: upper }] },
            `${c.column} ${values}, ${formatTimeRange(start, end)}`),
        });
        if (legend) card.appendChild(legend);
      } else {
        this.drawLines(chart, c, res, breakdowns, groups);
      }
    }
    const table = this.resultsTable(calcs, breakdowns, res);
    if (table) panel.appendChild(table);
  }

  drawLines(chart, c, res, breakdowns, groups) {
    const key = calcKey(c);
    const byGroup = new Map(groups.map((g) => [g, []]));
    for (const row of res.series) {
      const g = groupLabel(breakdowns, row.data);
      if (byGroup.has(g) && row.data[key] != null) byGroup.get(g).push([Date.parse(row.time), row.data[key]]);
    }
    const zeroFill = /^(COUNT|CONCURRENCY|SUM)/.test(key);
    const step = this.result.granularity * 1000;
    const start = Date.parse(res.start);
    const end = Date.parse(res.end);
    // Services keep their colours; other groups take the palette in order.
    const byService = breakdowns.length === 1 && breakdowns[0] === 'service.name';
    if (byService) learnServices([...groups].sort());
    const series = [...byGroup].map(([g, pts], i) => {
      let data = pts;
      if (zeroFill) { // a bucket without events counts zero
        const have = new Map(pts.map((p) => [p[0], p[1]]));
        data = [];
        for (let t = start; t < end; t += step) data.push([t, have.get(t) || 0]);
      }
      const color = byService ? serviceColor(g) : breakdowns.length ? seriesColor(i) : PALETTE[0];
      return { name: g, type: 'line', showSymbol: false, data, lineStyle: { width: 1.5 }, itemStyle: { color } };
    });
    const fmt = valueFormat(c, res.series.map((r) => r.data[key]));
    chart.setOption({
      animation: false,
      grid: { left: 64, right: 16, top: 24, bottom: 28 },
      legend: breakdowns.length ? { type: 'scroll', top: 0, textStyle: { fontSize: 11 } } : undefined,
      tooltip: tooltip('axis', (ps) => ps.length && seriesRows(formatTimeRange(ps[0].value[0], ps[0].value[0] + step), ps, fmt)),
      xAxis: { type: 'time', min: start, max: end, axisLabel: { ...AXIS_LABEL, hideOverlap: true, formatter: timeAxisLabel(end - start) } },
      yAxis: {
        type: 'value', splitLine: SPLIT_LINE,
        minInterval: /^(COUNT|CONCURRENCY)/.test(c.op) ? 1 : 0, // whole events
        axisLabel: { ...AXIS_LABEL, formatter: calcIsDuration(c) ? formatMs : (v) => v.toLocaleString('en-US', { maximumFractionDigits: 2 }) },
      },
      series,
    });
    chart.on('click', (p) => {
      const row = res.results.find((r) => groupLabel(breakdowns, r.data) === p.seriesName);
      const t = Array.isArray(p.value) ? p.value[0] : null;
      this.openEvents(row ? groupFilters(breakdowns, row.data) : [], t ? { start: t, end: t + step } : null);
    });
  }

  /** resultsTable lists the groups with their values; null when it would hold nothing but links. */
  resultsTable(calcs, breakdowns, res) {
    const shown = calcs.filter((c) => c.op !== 'HEATMAP');
    if (!shown.length && !breakdowns.length) return null;
    const fmts = shown.map((c) => valueFormat(c, res.results.map((r) => r.data[calcKey(c)])));
    return h('table', { class: 'qtable' },
      h('thead', null, h('tr', null, breakdowns.map((b) => h('th', null, b)), shown.map((c) => h('th', { class: 'num' }, calcKey(c))), h('th', null, ''))),
      h('tbody', null, res.results.map((r) => h('tr', null,
        breakdowns.map((b) => h('td', null, r.data[b] == null ? h('span', { class: 'muted' }, '(none)') : String(r.data[b]))),
        shown.map((c, i) => h('td', { class: 'num' }, fmts[i](r.data[calcKey(c)]))),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'link-btn', onClick: () => this.openEvents(groupFilters(breakdowns, r.data), null) }, 'Show events'),
          breakdowns.length ? h('button', { type: 'button', class: 'link-btn', onClick: () => this.bubbleUp({ filters: groupFilters(breakdowns, r.data) }, groupLabel(breakdowns, r.data)) }, 'BubbleUp') : null)))));
  }

  /** openEvents lists the query's events, narrowed to a group and a time bucket, slowest first. */
  async openEvents(extraFilters, window) {
    this.showTab('events');
    const panel = clear(this.panels.events);
    panel.appendChild(loadingState('Loading events…'));
    const q = { ...this.q, filters: [...(this.q.filters || []), ...extraFilters], filter_combination: undefined };
    if (this.q.filter_combination === 'OR' && this.q.filters && this.q.filters.length) {
      showError('Events of a group of an OR query show the group only.');
      q.filters = extraFilters;
    }
    if (window) {
      delete q.time_range;
      q.start_time = Math.floor(window.start / 1000);
      q.end_time = Math.ceil(window.end / 1000);
    }
    try {
      const events = await busy(api.events(this.dataset, normalize(q), 100));
      clear(panel);
      if (!events.length) {
        panel.appendChild(emptyState('No events', 'Nothing matches in this range.'));
        return;
      }
      const skip = new Set(['timestamp', 'trace.trace_id', 'trace.span_id', 'trace.parent_id', 'name', 'service.name', 'duration_ms', 'type', 'meta.signal_type']);
      const duration = columnFormat(events.map((ev) => ev.duration_ms), { ms: true });
      panel.appendChild(h('table', { class: 'qtable events' },
        h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Service'), h('th', null, 'Name'), h('th', { class: 'num' }, 'Duration'), h('th', null, 'Trace'), h('th', null, 'Fields'))),
        h('tbody', null, events.map((ev) => h('tr', { class: ev.error ? 'is-error' : '' },
          h('td', { class: 'nowrap mono' }, formatTime(Date.parse(ev.timestamp) * 1000)),
          h('td', { class: 'nowrap' }, ev['service.name']), h('td', { class: 'nowrap' }, ev.name),
          h('td', { class: 'num' }, duration(ev.duration_ms)),
          h('td', null, h('a', { href: `/trace/${encodeURIComponent(ev['trace.trace_id'])}`, 'data-nav': true, class: 'mono' }, String(ev['trace.trace_id']).slice(0, 16))),
          h('td', { class: 'fields' }, Object.keys(ev).filter((k) => !skip.has(k)).sort().slice(0, 12).map((k) => h('span', { class: 'ev-field' }, h('span', { class: 'ev-key' }, k), '=', String(ev[k])))))))));
    } catch (err) {
      clear(panel).appendChild(emptyState('Could not load events', err.message));
    }
  }

  /** bubbleUp compares the selection with the rest of the query's events, every field. */
  async bubbleUp(selection, label) {
    this.showTab('bubbleup');
    const panel = clear(this.panels.bubbleup);
    panel.appendChild(loadingState('Comparing the selection with the baseline…'));
    try {
      const res = await busy(api.bubbleUp(this.dataset, this.q, selection));
      clear(panel).appendChild(renderBubbleUp(res, {
        label, maxFields: BUBBLE_FIELDS,
        onFilter: (field, value) => {
          this.filters.items.push({ column: field, op: '=', value });
          this.filters.render();
          this.run();
        },
      }));
      if (!res.selected) panel.appendChild(emptyState('The selection is empty', 'Drag a box over cells that hold events.'));
    } catch (err) {
      clear(panel).appendChild(emptyState('BubbleUp failed', err.message));
    }
  }

  renderHistory() {
    clear(this.historyList);
    for (const e of loadHistory()) {
      this.historyList.appendChild(h('li', null, h('a', { href: `/query?${toParams(e.dataset, e.query)}`, 'data-nav': true, title: describe(e.query) },
        describe(e.query), h('span', { class: 'muted small' }, ` · ${e.dataset || 'all'}`))));
    }
  }

  async loadSaved() {
    try {
      const saved = await api.savedQueries();
      clear(this.savedList);
      if (!saved.length) this.savedList.appendChild(h('li', { class: 'muted small' }, 'Name a query and save it to share it here.'));
      for (const s of saved) {
        this.savedList.appendChild(h('li', null,
          h('a', { href: `/query?${toParams(s.dataset, s.query)}`, 'data-nav': true, title: describe(s.query) }, s.name),
          h('button', { type: 'button', class: 'qchip-x', 'aria-label': `Delete ${s.name}`, onClick: async () => {
            try { await api.deleteSavedQuery(s.id); } catch (err) { showError(err.message); }
            this.loadSaved();
          } }, '×')));
      }
    } catch {
      // saved queries are optional (e.g. a store without them)
    }
  }

  async save() {
    const name = this.saveName.value.trim();
    const q = this.query();
    if (!q) return;
    if (!name) {
      this.saveName.focus();
      showError('Give the query a name to save it.');
      return;
    }
    try {
      await api.saveQuery(name, this.dataset, q);
      this.saveName.value = '';
      this.loadSaved();
    } catch (err) {
      showError(err.message);
    }
  }
}
