// The query page (/query): Honeycomb's query builder over lookout's events.
// VISUALIZE, WHERE, GROUP BY, ORDER BY, HAVING and LIMIT are lists of short
// text clauses (hcquery.js reads them); the result is a chart per calculation
// (a heatmap for HEATMAP, where dragging a box opens BubbleUp), a results
// table, BubbleUp and the raw events, each leading to traces. The query lives
// in the URL; recent queries in this browser, saved ones on the server.
import { h, clear, setText, debounce } from './dom.js';
import { api } from './api.js';
import { setURL, showError, busy, emptyState, loadingState } from './shell.js';
import { loadECharts } from './scatter.js';
import { serviceColor } from './colors.js';
import {
  parseCalc, formatFilter, parseFilter, parseOrder, formatOrder, parseHaving, formatHaving, calcKey,
  TIME_RANGES, GRANULARITIES, toParams, fromParams, normalize, groupLabel, groupFilters, CALC_OPS,
} from './hcquery.js';

const HISTORY_KEY = 'lookout.queryHistory';
const MAX_HISTORY = 30;
const MAX_LINES = 10; // groups drawn per chart
const BUBBLE_FIELDS = 12;
const SEL_COLOR = '#f59e0b';
const BASE_COLOR = '#3b7dd8';

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

function fmtNumber(v) {
  if (typeof v !== 'number') return v == null ? '' : String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  return a >= 1000 ? v.toLocaleString('en-US', { maximumFractionDigits: 1 }) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
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
    const range = TIME_RANGES.some(([s]) => s === q.time_range) ? q.time_range : 3600;
    this.range.value = String(range);
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

  async run({ push = true } = {}) {
    const q = this.query();
    if (!q) return;
    if (push) setURL(`/query?${toParams(this.dataset, q)}`);
    remember(this.dataset, q);
    this.renderHistory();
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
      panel.appendChild(h('div', { class: 'qchart-card' }, h('div', { class: 'qchart-title' }, key,
        c.op === 'HEATMAP' ? h('span', { class: 'muted small' }, ' · drag a box to BubbleUp') : null), box));
      const chart = echarts.init(box, null, { renderer: 'canvas' });
      this.charts.push(chart);
      if (c.op === 'HEATMAP') this.drawHeatmap(chart, box, key, res);
      else this.drawLines(chart, key, res, breakdowns, groups);
    }
    panel.appendChild(this.resultsTable(calcs, breakdowns, res));
  }

  drawLines(chart, key, res, breakdowns, groups) {
    const byGroup = new Map(groups.map((g) => [g, []]));
    for (const row of res.series) {
      const g = groupLabel(breakdowns, row.data);
      if (byGroup.has(g) && row.data[key] != null) byGroup.get(g).push([Date.parse(row.time), row.data[key]]);
    }
    const zeroFill = /^(COUNT|CONCURRENCY|SUM)/.test(key);
    const step = this.result.granularity * 1000;
    const start = Date.parse(res.start);
    const end = Date.parse(res.end);
    const series = [...byGroup].map(([g, pts]) => {
      let data = pts;
      if (zeroFill) { // a bucket without events counts zero
        const have = new Map(pts.map((p) => [p[0], p[1]]));
        data = [];
        for (let t = start; t < end; t += step) data.push([t, have.get(t) || 0]);
      }
      return { name: g, type: 'line', showSymbol: false, data, lineStyle: { width: 1.5 }, itemStyle: { color: breakdowns.length ? serviceColor(g) : '#3b7dd8' } };
    });
    chart.setOption({
      animation: false,
      grid: { left: 64, right: 16, top: 24, bottom: 28 },
      legend: breakdowns.length ? { type: 'scroll', top: 0, textStyle: { fontSize: 11 } } : undefined,
      tooltip: { trigger: 'axis', confine: true, transitionDuration: 0, valueFormatter: fmtNumber },
      xAxis: { type: 'time', min: start, max: end, axisLabel: { fontSize: 11, hideOverlap: true } },
      yAxis: { type: 'value', axisLabel: { fontSize: 11, formatter: fmtNumber }, splitLine: { lineStyle: { color: '#eef0f3' } } },
      series,
    });
    chart.on('click', (p) => {
      const row = res.results.find((r) => groupLabel(breakdowns, r.data) === p.seriesName);
      const t = Array.isArray(p.value) ? p.value[0] : null;
      this.openEvents(row ? groupFilters(breakdowns, row.data) : [], t ? { start: t, end: t + step } : null);
    });
  }

  /** drawHeatmap sums the HEATMAP of every group per time bucket: time across, value up, colour = count. */
  drawHeatmap(chart, box, key, res) {
    const start = Date.parse(res.start);
    const step = res.granularity * 1000;
    const nx = Math.max(1, Math.round((Date.parse(res.end) - start) / step));
    let lo = Infinity; let hi = -Infinity; let width = 0;
    for (const r of res.results) {
      for (const b of (r.data[key] && r.data[key].buckets) || []) {
        lo = Math.min(lo, b.lower);
        hi = Math.max(hi, b.upper);
        if (b.upper > b.lower) width = width ? Math.min(width, b.upper - b.lower) : b.upper - b.lower;
      }
    }
    if (!Number.isFinite(lo)) return;
    const ny = width > 0 ? Math.max(1, Math.round((hi - lo) / width)) : 1;
    const cells = new Map();
    let max = 0;
    for (const row of res.series) {
      const x = Math.round((Date.parse(row.time) - start) / step);
      for (const b of (row.data[key] && row.data[key].buckets) || []) {
        const y = width > 0 ? Math.min(ny - 1, Math.round((b.lower - lo) / width)) : 0;
        const k = x * ny + y;
        const v = (cells.get(k) || 0) + b.count;
        cells.set(k, v);
        max = Math.max(max, v);
      }
    }
    const data = [...cells].map(([k, v]) => [Math.floor(k / ny), k % ny, v]);
    const xs = Array.from({ length: nx }, (_, i) => start + i * step);
    const ys = Array.from({ length: ny }, (_, i) => lo + i * width);
    const column = key.slice(key.indexOf('(') + 1, -1);
    box.dataset.cells = String(data.length);
    chart.setOption({
      animation: false,
      grid: { left: 64, right: 16, top: 12, bottom: 28 },
      tooltip: { confine: true, transitionDuration: 0, formatter: (p) => h('div', { class: 'tt' },
        h('div', null, new Date(xs[p.value[0]]).toLocaleTimeString()),
        h('div', null, `${fmtNumber(ys[p.value[1]])} – ${fmtNumber(ys[p.value[1]] + width)}: `, h('b', null, fmtNumber(p.value[2])))) },
      xAxis: { type: 'category', data: xs, axisLabel: { fontSize: 11, interval: Math.max(0, Math.ceil(nx / 10) - 1), formatter: (v) => new Date(Number(v)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }) }, splitArea: { show: false } },
      yAxis: { type: 'category', data: ys, axisLabel: { fontSize: 11, interval: Math.max(0, Math.ceil(ny / 6) - 1), formatter: (v) => fmtNumber(Number(v)) } },
      visualMap: { show: false, min: 0, max: max || 1, inRange: { color: ['#e8f0fe', '#93c5fd', '#3b82f6', '#1e3a8a'] } },
      series: [{ type: 'heatmap', data, progressive: 0 }],
    });
    this.brush(chart, box, (x0, x1, y0, y1) => {
      const upper = y1 === ny - 1 ? hi : ys[y1] + width; // the top band ends at the largest value exactly
      const selection = {
        start: xs[x0], end: xs[x1] + step,
        filters: [{ column, op: '>=', value: ys[y0] }, { column, op: '<=', value: upper }],
      };
      this.bubbleUp(selection, `${column} ${fmtNumber(ys[y0])} – ${fmtNumber(upper)}, ${new Date(selection.start).toLocaleTimeString()} – ${new Date(selection.end).toLocaleTimeString()}`);
    }, nx, ny);
  }

  /** brush lets the user drag a box over a heatmap; onSelect gets the cells it covers. */
  brush(chart, box, onSelect, nx, ny) {
    const rect = h('div', { class: 'brush-box', hidden: true });
    box.appendChild(rect);
    const local = (e) => {
      const r = box.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    let from = null;
    const draw = (to) => {
      const [x0, x1] = [Math.min(from[0], to[0]), Math.max(from[0], to[0])];
      const [y0, y1] = [Math.min(from[1], to[1]), Math.max(from[1], to[1])];
      Object.assign(rect.style, { left: `${x0}px`, top: `${y0}px`, width: `${x1 - x0}px`, height: `${y1 - y0}px` });
      rect.hidden = false;
    };
    const move = (e) => draw(local(e));
    const up = (e) => {
      document.removeEventListener('mousemove', move);
      document.removeEventListener('mouseup', up);
      const to = local(e);
      if (Math.abs(to[0] - from[0]) < 4 && Math.abs(to[1] - from[1]) < 4) {
        rect.hidden = true;
        return;
      }
      const clamp = (v, n) => Math.max(0, Math.min(n - 1, Math.round(v)));
      const a = chart.convertFromPixel({ seriesIndex: 0 }, from);
      const b = chart.convertFromPixel({ seriesIndex: 0 }, to);
      onSelect(clamp(Math.min(a[0], b[0]), nx), clamp(Math.max(a[0], b[0]), nx), clamp(Math.min(a[1], b[1]), ny), clamp(Math.max(a[1], b[1]), ny));
    };
    box.addEventListener('mousedown', (e) => {
      const p = local(e);
      if (e.button !== 0) return;
      e.preventDefault();
      from = p;
      document.addEventListener('mousemove', move);
      document.addEventListener('mouseup', up);
    });
  }

  resultsTable(calcs, breakdowns, res) {
    const shown = calcs.filter((c) => c.op !== 'HEATMAP');
    return h('table', { class: 'qtable' },
      h('thead', null, h('tr', null, breakdowns.map((b) => h('th', null, b)), shown.map((c) => h('th', { class: 'num' }, calcKey(c))), h('th', null, ''))),
      h('tbody', null, res.results.map((r) => h('tr', null,
        breakdowns.map((b) => h('td', null, r.data[b] == null ? h('span', { class: 'muted' }, '(none)') : String(r.data[b]))),
        shown.map((c) => h('td', { class: 'num' }, fmtNumber(r.data[calcKey(c)]))),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'link-btn', onClick: () => this.openEvents(groupFilters(breakdowns, r.data), null) }, 'events'),
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
      panel.appendChild(h('table', { class: 'qtable events' },
        h('thead', null, h('tr', null, ['Time', 'Service', 'Name', 'Duration', 'Trace', 'Fields'].map((t) => h('th', null, t)))),
        h('tbody', null, events.map((ev) => h('tr', { class: ev.error ? 'is-error' : '' },
          h('td', { class: 'nowrap' }, new Date(ev.timestamp).toLocaleString()),
          h('td', null, ev['service.name']), h('td', null, ev.name),
          h('td', { class: 'num' }, `${fmtNumber(ev.duration_ms)} ms`),
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
      clear(panel);
      panel.appendChild(h('div', { class: 'bu-head' },
        h('span', { class: 'bu-swatch sel' }), h('b', null, 'Selection'), ` ${label}: ${fmtNumber(res.selected)} events  `,
        h('span', { class: 'bu-swatch base' }), h('b', null, 'Baseline'), `: ${fmtNumber(res.baseline)} events`));
      if (!res.selected) {
        panel.appendChild(emptyState('The selection is empty', 'Drag a box over cells that hold events.'));
        return;
      }
      const echarts = await loadECharts();
      const grid = h('div', { class: 'bu-grid' });
      panel.appendChild(grid);
      for (const f of res.fields.slice(0, BUBBLE_FIELDS)) {
        const box = h('div', { class: 'bu-chart' });
        grid.appendChild(h('div', { class: 'bu-card', dataset: { field: f.field } },
          h('div', { class: 'bu-title' }, h('span', { class: 'mono' }, f.field), h('span', { class: 'muted small' }, ` difference ${(f.score * 100).toFixed(0)}%`)), box));
        const labels = f.values.map((v) => (f.numeric ? `${fmtNumber(v.lower)}–${fmtNumber(v.upper)}` : v.value));
        const chart = echarts.init(box, null, { renderer: 'canvas' });
        this.charts.push(chart);
        chart.setOption({
          animation: false,
          grid: { left: 40, right: 8, top: 8, bottom: 36 },
          tooltip: { trigger: 'axis', confine: true, transitionDuration: 0, valueFormatter: (v) => `${v.toFixed(1)}%` },
          xAxis: { type: 'category', data: labels, axisLabel: { fontSize: 10, hideOverlap: true, width: 80, overflow: 'truncate' } },
          yAxis: { type: 'value', max: 100, axisLabel: { fontSize: 10, formatter: '{value}%' }, splitLine: { lineStyle: { color: '#eef0f3' } } },
          series: [
            { name: 'Selection', type: 'bar', data: f.values.map((v) => v.selected * 100), itemStyle: { color: SEL_COLOR } },
            { name: 'Baseline', type: 'bar', data: f.values.map((v) => v.baseline * 100), itemStyle: { color: BASE_COLOR } },
          ],
        });
        if (!f.numeric) {
          chart.on('click', (p) => {
            this.filters.items.push({ column: f.field, op: '=', value: f.values[p.dataIndex].value });
            this.filters.render();
            this.run();
          });
        }
      }
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
