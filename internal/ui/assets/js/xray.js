// The X-Ray page: the service map of a time range (or of an X-Ray group's traces) drawn
// from lookout's service graph, the details of a node or edge, the traces a filter
// expression selects (a node or edge clicked fills it in) with the distribution of their
// response times (dragging over it narrows the filter), and what the X-Ray endpoints
// received, stored, dropped and refused, with the latest problems and why.
import { h, clear, append } from './dom.js';
import { getJSON } from './api.js';
import { busy, showError, clearError, emptyState, loadingState } from './shell.js';
import { formatCount, formatMs, formatDateTime, formatRate, plural } from './format.js';
import { loadECharts, tooltip, AXIS_LABEL, SPLIT_LINE } from './charts.js';
import { brush } from './heatmap.js';
import { responseTimeBins, binRange, narrowToResponseTime } from './xrayfilter.js';
import { serviceColor, ERROR_COLOR } from './colors.js';
import { sparkline } from './errorviews.js';
import { layout, outcomes, arcs, perMinute, averageMs, LABEL_ROOM } from './servicemap.js';

const RANGES = [[900, 'Last 15 minutes'], [3600, 'Last hour'], [21600, 'Last 6 hours'], [86400, 'Last 24 hours']];
const RING = { ok: '#12b76a', error: '#f79009', throttle: '#7a5af8', fault: ERROR_COLOR };
const WIDTH = 960; // the least width the map is laid out for
const MIN_SCALE = 0.85; // the most a wide map shrinks to fit its box: its labels stay 10px and more
const SVGNS = 'http://www.w3.org/2000/svg';

/** svg creates an SVG element; data only ever becomes text nodes. */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const k in attrs || {}) {
    if (k.startsWith('on') && typeof attrs[k] === 'function') el.addEventListener(k.slice(2).toLowerCase(), attrs[k]);
    else if (attrs[k] != null) el.setAttribute(k, String(attrs[k]));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** textMeasure measures text in the fonts the map's labels use (app.css: .xr-node-label, .xr-node-sub, .xr-edge-label). */
function textMeasure(el) {
  const family = getComputedStyle(el).fontFamily;
  const fonts = { node: `600 12px ${family}`, sub: `10.5px ${family}`, edge: `10.5px ${family}` };
  const ctx = document.createElement('canvas').getContext('2d');
  return (text, kind) => {
    ctx.font = fonts[kind];
    return ctx.measureText(text).width;
  };
}

/** quote is a filter expression string holding s. */
const quote = (s) => `"${String(s).replace(/["\\]/g, (c) => `\\${c}`)}"`;

const rate = (n) => `${perMinuteText(n)}/min`;
let span = { start: 0, end: 1 };
const perMinuteText = (n) => {
  const r = perMinute(n, span.start, span.end);
  return r >= 10 ? formatCount(r) : r.toFixed(r >= 1 ? 1 : 2);
};

/** lastMinute is the newest of a rule's counts by the minute, 0 without any. */
const lastMinute = (counts) => (Array.isArray(counts) && counts.length ? counts[counts.length - 1] : 0);

/** countAndRate shows the sum of an hour's counts by the minute, and the last one's rate a second. */
const countAndRate = (minutes) => {
  const total = (Array.isArray(minutes) ? minutes : []).reduce((a, b) => a + b, 0);
  return [formatCount(total), h('span', { class: 'muted' }, ` · ${formatRate(lastMinute(minutes), 60)}`)];
};

/** requestLine draws a rule's requests a second in each minute of the hour. */
function requestLine(m) {
  const counts = Array.isArray(m?.Requests) ? m.Requests : [];
  return sparkline(counts, 120, 18, (_, n) => `requests a second in each of the last ${n} minutes, at most ${formatRate(Math.max(0, ...counts), 60)}`);
}

function statsLines(st) {
  const o = outcomes(st);
  return [`${rate(o.total)} · avg ${formatMs(averageMs(st))}`, `ok ${o.ok} · error ${o.error} · throttle ${o.throttle} · fault ${o.fault}`];
}

/** callTitle is a call's tooltip: who calls whom, and its figures. */
const callTitle = (e) => `${e.from.name} → ${e.to.name}\n${statsLines(e.edge.SummaryStatistics).join('\n')}`;

export class XRayPage {
  mount(root, route) {
    document.title = 'X-Ray · lookout';
    this.params = new URLSearchParams(route.params || '');
    this.range = h('select', { id: 'xr-range', 'aria-label': 'Time range', onChange: () => this.load() },
      RANGES.map(([s, label]) => h('option', { value: String(s), selected: String(s) === (this.params.get('range') || '3600') }, label)));
    this.group = h('select', { id: 'xr-group', 'aria-label': 'Group', onChange: () => this.load() }, h('option', { value: '' }, 'All traces'));
    this.map = h('div', { class: 'xray-map', id: 'service-map' });
    this.note = h('p', { class: 'muted small xray-note', id: 'xray-note' });
    this.detail = h('aside', { class: 'xray-detail', id: 'xray-detail' }, h('p', { class: 'muted' }, 'Click a service or a call to see its figures.'));
    this.filter = h('input', { id: 'xray-filter', type: 'search', class: 'xray-filter-input', spellcheck: 'false', autocomplete: 'off',
      'aria-label': 'Filter expression', placeholder: 'service("backend-flask") { fault } AND annotation.user_handle = "andrewbrown"' });
    this.filterError = h('div', { class: 'xray-filter-error', id: 'xray-filter-error', role: 'alert', hidden: true });
    this.traces = h('div', { class: 'xray-traces', id: 'xray-traces' });
    this.distNote = h('div', { class: 'muted small' });
    this.distBox = h('div', { class: 'xray-dist-chart', id: 'xray-dist' });
    this.dist = h('div', { class: 'xray-dist', hidden: true }, this.distNote, this.distBox);
    this.counters = h('div', { class: 'xray-counters', id: 'xray-counters' });
    this.problems = h('div', { class: 'xray-problems', id: 'xray-problems' });
    this.rules = h('div', { class: 'xray-counters', id: 'xray-rules' });
    this.el = h('div', { class: 'xray-page' },
      h('div', { class: 'xray-toolbar' },
        h('h2', null, 'Service map'),
        h('label', { class: 'sort' }, 'Range ', this.range),
        h('label', { class: 'sort' }, 'Group ', this.group),
        h('button', { type: 'button', class: 'btn btn-small', onClick: () => this.load() }, 'Refresh'),
        h('span', { class: 'xray-legend' }, Object.entries(RING).map(([k, c]) => h('span', { class: 'xray-key' }, h('span', { class: 'swatch', style: { background: c } }), k)))),
      h('div', { class: 'xray-body' }, this.map, this.detail),
      this.note,
      h('h2', { class: 'xray-h' }, 'Traces'),
      h('form', { class: 'xray-filter', onSubmit: (e) => { e.preventDefault(); this.findTraces(); } },
        this.filter, h('button', { type: 'submit', class: 'btn btn-primary btn-small', id: 'xray-find' }, 'Find traces')),
      this.filterError,
      this.dist,
      this.traces,
      h('h2', { class: 'xray-h' }, 'X-Ray documents'),
      this.counters,
      h('h2', { class: 'xray-h' }, 'Problems'),
      this.problems,
      h('h2', { class: 'xray-h' }, 'Sampling rules'),
      this.rules);
    root.appendChild(this.el);
    this.load();
  }

  async load() {
    this.abort?.abort();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    const end = Date.now();
    const start = end - Number(this.range.value) * 1000;
    clear(this.map).appendChild(loadingState('Drawing the service map…'));
    try {
      const params = new URLSearchParams({ start: String(start), end: String(end) });
      if (this.group.value) params.set('group', this.group.value);
      const [graph, status] = await busy(Promise.all([
        getJSON('/api/v1/xray/service-graph', params, signal),
        getJSON('/api/v1/xray/status', null, signal)]));
      clearError();
      this.showGroups(status.groups || []);
      this.showMap(graph);
      this.showStatus(status);
      this.findTraces();
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(this.map).appendChild(emptyState('The service map could not be drawn', err.message));
      showError(err.message);
    }
  }

  showGroups(names) {
    const current = this.group.value;
    clear(this.group).appendChild(h('option', { value: '' }, 'All traces'));
    for (const n of names) this.group.appendChild(h('option', { value: n, selected: n === current }, n));
  }

  showMap(graph) {
    span = { start: graph.StartTime, end: graph.EndTime };
    const services = Array.isArray(graph.Services) ? graph.Services : [];
    const of = this.group.value ? `of the group ${this.group.value} in the range` : 'of the range';
    this.note.textContent = graph.Sampled
      ? `Drawn from the newest ${formatCount(graph.TracesRead)} traces ${of}: counts and rates are of those, not of every request.`
      : `Drawn from all ${formatCount(graph.TracesRead)} traces ${of}.`;
    clear(this.map);
    if (!services.length) {
      this.map.appendChild(emptyState('No traces in this range', 'Send segments to the X-Ray daemon endpoint or OTLP spans, then refresh.'));
      return;
    }
    const { nodes, edges, width, minWidth, height } = layout(services, {
      width: Math.max(WIDTH, this.map.clientWidth), measure: textMeasure(this.map),
      nodeText: (n) => {
        const st = n.service.SummaryStatistics;
        return n.client ? ['Clients', ''] : [n.name, `${rate(outcomes(st).total)} · ${formatMs(averageMs(st))}`];
      },
      edgeText: (e) => {
        const { total } = outcomes(e.SummaryStatistics);
        return total ? rate(total) : '';
      },
    });
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'xray-svg', role: 'group', 'aria-label': 'Service map' });
    // Services and calls take the keyboard's focus; Enter or Space does what a click does.
    root.addEventListener('keydown', (ev) => {
      const target = ev.target.closest && ev.target.closest('.xr-node, .xr-edge');
      if (!target || (ev.key !== 'Enter' && ev.key !== ' ')) return;
      ev.preventDefault();
      target.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    });
    // A map wider than the box shrinks a little, then scrolls rather than shrink its text further.
    root.style.minWidth = `${Math.round(MIN_SCALE * minWidth)}px`;
    for (const e of edges) root.appendChild(this.edgeShape(e));
    for (const n of nodes) root.appendChild(this.nodeShape(n));
    // Labels last, so that no line runs over them.
    for (const e of edges) if (e.label) root.appendChild(this.edgeLabel(e));
    this.map.appendChild(root);
  }

  /** selectCall shows a call's figures and finds its traces. */
  selectCall({ from, to, edge }) {
    this.select(`${from.name} → ${to.name}`, 'call', edge.SummaryStatistics, edge.ResponseTimeHistogram, null,
      from.client ? `service(${quote(to.name)}) { root }` : `edge(${quote(from.name)}, ${quote(to.name)})`);
  }

  edgeShape(e) {
    const colour = outcomes(e.edge.SummaryStatistics).fault > 0 ? ERROR_COLOR : '#b6bdc8';
    return svg('g', { class: 'xr-edge', tabindex: 0, 'data-from': e.from.name, 'data-to': e.to.name, onClick: () => this.selectCall(e) },
      svg('title', null, callTitle(e)),
      svg('path', { d: e.d, class: 'xr-edge-hit' }), // a wide, invisible line to click
      svg('path', { d: e.d, class: 'xr-edge-line', stroke: colour, 'stroke-width': e.width }),
      svg('polygon', { points: e.arrow, fill: colour }));
  }

  edgeLabel(e) {
    const { text, x, y, w, h: height } = e.label;
    return svg('g', { class: 'xr-edge-label', 'data-from': e.from.name, 'data-to': e.to.name, onClick: () => this.selectCall(e) },
      svg('title', null, callTitle(e)),
      svg('rect', { x, y, width: w, height, rx: 3 }),
      svg('text', { x: x + w / 2, y: y + height / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, text));
  }

  nodeShape(n) {
    const st = n.service.SummaryStatistics;
    const o = outcomes(st);
    const c = 2 * Math.PI * (n.r + 3);
    const ring = arcs(o).map((a) => svg('circle', {
      cx: n.x, cy: n.y, r: n.r + 3, fill: 'none', stroke: RING[a.kind], 'stroke-width': 5,
      'stroke-dasharray': `${(a.to - a.from) * c} ${c}`, 'stroke-dashoffset': -a.from * c, transform: `rotate(-90 ${n.x} ${n.y})`,
    }));
    const lines = n.client ? ['the callers of entry points'] : statsLines(st);
    return svg('g', { class: 'xr-node', tabindex: 0, 'data-name': n.name, onClick: () => this.select(n.title, n.client ? 'client' : (n.type || 'service'), st, n.service.ResponseTimeHistogram, n, n.client ? 'root' : `service(${quote(n.name)})`) },
      svg('title', null, `${n.title}${n.type && !n.client ? ` (${n.type})` : ''}\n${lines.join('\n')}`),
      // A node answers clicks on its labels too, not only on their letters' ink.
      svg('rect', { class: 'xr-hit', x: n.x - n.half, y: n.y - n.r, width: 2 * n.half, height: 2 * n.r + LABEL_ROOM, fill: 'transparent' }),
      svg('circle', { cx: n.x, cy: n.y, r: n.r, fill: n.client ? '#eef0f3' : serviceColor(n.name), 'fill-opacity': n.inferred ? 0.35 : 0.85, stroke: n.inferred ? '#98a1ae' : 'none', 'stroke-dasharray': n.inferred ? '3 3' : null }),
      ring,
      svg('text', { x: n.x, y: n.y + n.r + 18, class: 'xr-node-label', 'text-anchor': 'middle' }, n.title),
      n.sub ? svg('text', { x: n.x, y: n.y + n.r + 31, class: 'xr-node-sub', 'text-anchor': 'middle' }, n.sub) : null);
  }

  select(title, kind, st, histogram, node, filter) {
    this.filter.value = filter;
    this.findTraces();
    const o = outcomes(st);
    const hist = Array.isArray(histogram) ? histogram : [];
    const most = Math.max(1, ...hist.map((b) => b.Count || 0));
    append(clear(this.detail), [
      h('h3', null, title),
      h('div', { class: 'muted small' }, kind),
      st ? h('table', { class: 'kv' }, h('tbody', null,
        [['Requests', `${formatCount(o.total)} (${rate(o.total)})`], ['Average response', formatMs(averageMs(st))],
          ['OK', formatCount(o.ok)], ['Errors (4xx)', formatCount(o.error)], ['Throttled (429)', formatCount(o.throttle)], ['Faults (5xx)', formatCount(o.fault)]]
          .map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v))))) : null,
      hist.length ? h('div', { class: 'xr-hist', 'aria-label': 'Response time histogram' },
        h('div', { class: 'small muted' }, 'Response times'),
        hist.slice(0, 30).map((b) => h('div', { class: 'xr-bar' },
          h('span', { class: 'xr-bar-label' }, formatMs(b.Value * 1000)),
          h('span', { class: 'xr-bar-fill', style: { width: `${(100 * b.Count) / most}%` } }),
          h('span', { class: 'xr-bar-count' }, formatCount(b.Count))))) : null,
      node && !node.client && !node.inferred ? h('a', { href: `/search?service=${encodeURIComponent(node.name)}`, 'data-nav': true }, `Traces of ${node.name}`) : null]);
  }

  timeWindow() {
    const end = Date.now();
    return { start: String(end - Number(this.range.value) * 1000), end: String(end) };
  }

  async findTraces() {
    this.findAbort?.abort();
    this.findAbort = new AbortController();
    const params = new URLSearchParams({ ...this.timeWindow(), filter: this.filter.value });
    this.filterError.hidden = true;
    clear(this.traces).appendChild(loadingState('Finding traces…'));
    try {
      const res = await busy(getJSON('/api/v1/xray/trace-summaries', params, this.findAbort.signal));
      this.showTraces(res.TraceSummaries || [], res.TracesProcessedCount || 0);
      this.showDistribution(res.TraceSummaries || [], Boolean(res.NextToken));
    } catch (err) {
      if (err.name === 'AbortError') return;
      clear(this.traces);
      this.dist.hidden = true;
      this.showFilterError(err.message);
    }
  }

  // showFilterError shows the server's message and, when it names a position, the expression
  // with a caret under it.
  showFilterError(msg) {
    const m = /at position (\d+)/.exec(msg);
    const expr = this.filter.value;
    append(clear(this.filterError), [h('div', null, msg),
      m ? h('pre', { class: 'xray-caret mono' }, `${expr}\n${' '.repeat(Math.min(Number(m[1]), expr.length))}^`) : null]);
    this.filterError.hidden = false;
  }

  showTraces(list, processed) {
    clear(this.traces);
    if (!list.length) {
      this.traces.appendChild(h('p', { class: 'muted pad' }, `No trace matches, of the ${formatCount(processed)} read.`));
      return;
    }
    this.traces.appendChild(h('ul', { class: 'xray-trace-list' }, list.map((t) => {
      const id = String(t.Id || '');
      const hex = id.replace(/^1-/, '').replace(/-/g, '');
      const http = t.Http || {};
      const entry = (t.EntryPoint && t.EntryPoint.Name) || '';
      return h('li', { class: 'xray-trace' },
        h('a', { href: `/trace/${encodeURIComponent(hex)}`, 'data-nav': true, class: 'mono' }, id),
        h('span', { class: 'xray-trace-entry' }, entry),
        h('span', { class: 'mono small' }, formatMs((t.ResponseTime || 0) * 1000)),
        h('span', { class: 'small muted xray-trace-http' }, [http.HttpMethod, http.HttpURL, http.HttpStatus].filter((v) => v != null && v !== '').join(' ')),
        h('span', { class: 'xray-trace-flags' },
          t.HasFault ? h('span', { class: 'badge badge-error' }, 'fault') : null,
          t.HasError ? h('span', { class: 'badge badge-warn' }, 'error') : null,
          t.HasThrottle ? h('span', { class: 'badge badge-warn' }, 'throttle') : null,
          t.IsPartial ? h('span', { class: 'badge badge-incomplete' }, 'in progress') : null));
    })));
  }

  // showDistribution draws how the response times of the traces found spread; dragging
  // across bins narrows the filter to their range and searches again.
  async showDistribution(list, more) {
    const times = list.filter((t) => !t.IsPartial && Number.isFinite(t.ResponseTime)).map((t) => t.ResponseTime);
    this.dist.hidden = times.length === 0;
    if (!times.length) return;
    const bins = this.bins = responseTimeBins(times);
    const { step, counts } = bins;
    this.distNote.textContent = `Response times of the ${more ? `first ${plural(times.length, 'trace')} found` : plural(times.length, 'trace')}: drag across bars to narrow the filter to their range`;
    Object.assign(this.distBox.dataset, { step: String(step), counts: counts.join(',') });
    const echarts = await loadECharts();
    if (!this.distChart) {
      this.distChart = echarts.init(this.distBox);
      brush(this.distChart, this.distBox, (a, b) => {
        const last = this.bins.counts.length - 1;
        const bin = (p) => Math.max(0, Math.min(last, Math.round(p[0])));
        const [i, j] = [bin(a), bin(b)].sort((x, y) => x - y);
        this.filter.value = narrowToResponseTime(this.filter.value, ...binRange(this.bins, i, j));
        this.findTraces();
      });
    }
    const label = (k) => binRange(bins, k, k).map((s) => formatMs(s * 1000)).join(' – ');
    const start = (k) => `${bins.overflow && k === counts.length - 1 ? '≥ ' : ''}${formatMs(k * step * 1000)}`;
    this.distChart.setOption({
      animation: false,
      grid: { left: 40, right: 12, top: 8, bottom: 24 },
      tooltip: tooltip('item', (p) => h('div', { class: 'tt' }, h('div', { class: 'tt-title' }, label(p.dataIndex)), h('b', null, plural(p.value, 'trace')))),
      xAxis: { type: 'category', data: counts.map((_, k) => start(k)), axisLabel: { ...AXIS_LABEL, hideOverlap: true }, axisTick: { alignWithLabel: false } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE },
      series: [{ type: 'bar', data: counts, barCategoryGap: '12%', itemStyle: { color: '#3b6fd4' } }],
    }, true);
    this.distChart.resize();
  }

  showRules(rules, minutes) {
    const minutesOf = new Map((Array.isArray(minutes) ? minutes : []).map((m) => [m.RuleName, m]));
    const rows = (Array.isArray(rules) ? rules : []).map((rec) => {
      const r = rec.SamplingRule || {};
      const m = minutesOf.get(r.RuleName);
      const matches = [r.ServiceName, r.ServiceType, r.Host, r.HTTPMethod, r.URLPath].join(' ');
      return h('tr', { dataset: { rule: String(r.RuleName) } }, h('th', null, r.RuleName),
        [r.Priority, matches, `${r.ReservoirSize}/s then ${Math.round((r.FixedRate || 0) * 1000) / 10} %`].map((v) => h('td', null, v)),
        h('td', { class: 'xray-requests' }, countAndRate(m?.Requests)),
        h('td', null, countAndRate(m?.Sampled)),
        h('td', null, countAndRate(m?.Borrowed)),
        h('td', { class: 'xray-rates' }, requestLine(m)));
    });
    clear(this.rules).appendChild(h('table', { class: 'kv xray-counts' },
      h('thead', null, h('tr', null, ['Rule', 'Priority', 'Service, type, host, method, path', 'Reservoir, rate',
        'Requests: 1 h · last minute', 'Sampled', 'Borrowed', 'Last hour'].map((t) => h('th', null, t)))),
      h('tbody', null, rows)));
  }

  showStatus(status) {
    this.showRules(status.rules, status.samplingMinutes);
    const docs = status.documents || {};
    clear(this.counters).appendChild(h('table', { class: 'kv xray-counts' },
      h('thead', null, h('tr', null, ['Way in', 'Received', 'Stored', 'Dropped', 'Refused'].map((t) => h('th', null, t)))),
      h('tbody', null, [['udp', 'UDP (daemon endpoint)'], ['api', 'PutTraceSegments']].map(([k, label]) => {
        const c = docs[k] || {};
        return h('tr', { dataset: { via: k } }, h('th', null, label), [c.Received, c.Stored, c.Dropped, c.Refused].map((n) => h('td', null, formatCount(n || 0))));
      }))));
    const problems = Array.isArray(status.problems) ? status.problems : [];
    clear(this.problems).appendChild(problems.length
      ? h('ul', { class: 'xray-problem-list' }, problems.slice(0, 50).map((p) => h('li', null,
        h('span', { class: 'badge badge-warn' }, p.kind), ' ',
        h('span', { class: 'mono small' }, formatDateTime(Date.parse(p.time))), ' ',
        h('span', { class: 'muted' }, p.via), ' ', p.code ? h('b', null, p.code) : null, ' ', p.message,
        p.id ? h('span', { class: 'mono small muted' }, ` (id ${p.id})`) : null)))
      : h('p', { class: 'muted' }, 'Nothing refused or dropped.'));
  }

  unmount() {
    this.abort?.abort();
    this.findAbort?.abort();
    this.distChart?.dispose();
    this.el.remove();
  }
}
