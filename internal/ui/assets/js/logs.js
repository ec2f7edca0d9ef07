// The log pages: /logs lists the log groups, /logs/{group} shows a group's events with a
// filter pattern, a histogram of the matches over time (drag across it to narrow the range),
// lines that open on click, a link to each line's trace, and a live view that streams new
// lines as they are acknowledged.
import { h, clear, setText } from './dom.js';
import { getJSON } from './api.js';
import { setURL, showError, emptyState, loadingState } from './shell.js';
import { formatDateTime, formatRelative, formatCount, formatTimeRange, timeAxisLabel, plural } from './format.js';
import { loadECharts, tooltip, AXIS_LABEL, SPLIT_LINE } from './charts.js';
import { brush } from './heatmap.js';

const LOOKBACKS = [['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['6h', 'Last 6 hours'], ['24h', 'Last day'], ['168h', 'Last 7 days']];
const MAX_LIVE_LINES = 1000;

/** formatBytes renders a size in bytes with a binary unit. */
export function formatBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** whyEmpty explains a group or stream that exists but holds no events yet. */
function whyEmpty(g) {
  const lines = ['It exists but holds no events yet. watchtower (and other batching handlers) hold a batch for up to 60 seconds (send_interval) before the first PutLogEvents.'];
  if (g.missingStream) {
    lines.push(`A PutLogEvents to the stream “${g.missingStream}” was refused ${formatRelative(Date.parse(g.missingAt) * 1000)} because that stream did not exist yet; watchtower creates the stream on that answer and sends again.`);
  }
  return lines.join('\n');
}

export class LogsPage {
  mount(el, route) {
    this.el = el;
    this.abort = new AbortController();
    this.route(route);
  }

  update(route) {
    this.stopLive();
    this.abort.abort();
    this.disposeChart();
    this.abort = new AbortController();
    clear(this.el);
    this.route(route);
    return true;
  }

  unmount() {
    this.stopLive();
    this.abort.abort();
    this.disposeChart();
  }

  disposeChart() {
    if (this.chart) this.chart.dispose();
    this.chart = null;
  }

  route(route) {
    if (route.id) this.showGroup(route.id, route.params);
    else this.showGroups();
  }

  focusSearch() {
    if (this.patternInput) this.patternInput.focus();
  }

  async showGroups() {
    document.title = 'Logs · lookout';
    const box = h('div', { class: 'logs-page' }, h('h1', { class: 'logs-title' }, 'Log groups'));
    const body = h('div', null, loadingState('Loading log groups…'));
    box.appendChild(body);
    this.el.appendChild(box);
    let groups;
    try {
      groups = await getJSON('/api/v1/log-groups', null, this.abort.signal);
    } catch (err) {
      if (err.name !== 'AbortError') showError(err.message);
      return;
    }
    clear(body);
    if (!groups.length) {
      body.appendChild(emptyState('No log groups yet', 'Point CloudWatch Logs clients here (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS) or send OTLP logs: each service becomes a group.'));
      return;
    }
    body.appendChild(h('table', { class: 'logs-table' },
      h('thead', null, h('tr', null, ['Group', 'Streams', 'Events', 'Stored', 'Last event', 'Retention'].map((c) => h('th', null, c)))),
      h('tbody', null, groups.map((g) => [
        h('tr', null,
          h('td', null, h('a', { href: `/logs/${encodeURIComponent(g.name)}`, 'data-nav': true, class: 'mono' }, g.name)),
          h('td', { class: 'num' }, formatCount(g.streams)),
          h('td', { class: 'num' }, formatCount(g.records)),
          h('td', { class: 'num' }, formatBytes(g.storedBytes)),
          h('td', null, g.lastEvent ? formatRelative(Date.parse(g.lastEvent) * 1000) : '–'),
          h('td', null, g.retentionDays ? plural(g.retentionDays, 'day') : 'Never expires')),
        g.records === 0 ? h('tr', { class: 'logs-note' }, h('td', { colspan: 6 }, whyEmpty(g))) : null,
      ]))));
  }

  showGroup(group, params) {
    document.title = `${group} · Logs · lookout`;
    this.group = group;
    this.patternInput = h('input', { type: 'search', class: 'mono logs-pattern', placeholder: 'Filter pattern: ERROR, "a phrase", ?a ?b, -x, %regex%, { $.status >= 500 }, [ip, ..., status=5*]', value: params.get('pattern') || '', spellcheck: 'false', 'aria-label': 'Filter pattern' });
    this.lookback = h('select', { 'aria-label': 'Time range' }, LOOKBACKS.map(([v, label]) => h('option', { value: v, selected: v === (params.get('lookback') || '1h') }, label)));
    // A range dragged on the histogram, in epoch milliseconds; choosing a lookback drops it.
    const start = Number(params.get('start'));
    const end = Number(params.get('end'));
    this.range = start > 0 && end > start ? { start, end } : null;
    this.rangeChip = h('span', { class: 'logs-range-chip' });
    this.lookback.addEventListener('change', () => this.narrow(null));
    this.liveBtn = h('button', { type: 'button', class: 'btn', onClick: () => (this.source ? this.stopLive() : this.startLive()) }, 'Live tail');
    this.patternError = h('div', { class: 'logs-pattern-error', role: 'alert', hidden: true });
    this.summary = h('div', { class: 'muted small logs-summary' });
    this.histogram = h('div', { class: 'logs-histogram', 'aria-label': 'Matching events over time: drag across it to narrow the time range' });
    window.addEventListener('resize', () => this.chart && this.chart.resize(), { signal: this.abort.signal });
    this.lines = h('ol', { class: 'logs-lines' });
    this.stream = params.get('stream') || '';
    this.streamChip = h('span', { class: 'logs-stream-chip' });
    this.streams = h('details', { class: 'logs-streams' }, h('summary', null, 'Streams'));
    const form = h('form', { class: 'logs-toolbar', onSubmit: (e) => { e.preventDefault(); this.search(); } },
      this.patternInput, this.lookback, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'), this.liveBtn, this.rangeChip, this.streamChip);
    this.el.appendChild(h('div', { class: 'logs-page' },
      h('div', { class: 'logs-head' }, h('a', { href: '/logs', 'data-nav': true }, 'Log groups'), ' / ', h('h1', { class: 'logs-title mono' }, group)),
      this.streams, form, this.patternError, this.summary, this.histogram, this.lines));
    this.loadStreams();
    this.search();
  }

  // loadStreams lists the group's streams, newest event first; one opens its events alone.
  async loadStreams() {
    let streams;
    let g;
    try {
      [streams, g] = await Promise.all([getJSON(`/api/v1/log-groups/${encodeURIComponent(this.group)}/streams`, null, this.abort.signal),
        getJSON('/api/v1/log-groups', null, this.abort.signal).then((gs) => gs.find((x) => x.name === this.group))]);
    } catch (err) {
      if (err.name !== 'AbortError') showError(err.message);
      return;
    }
    const empty = streams.filter((st) => st.records === 0).length;
    clear(this.streams).append(
      h('summary', null, `${plural(streams.length, 'stream')}${empty ? `, ${empty} without events yet` : ''}`),
      h('table', { class: 'logs-table logs-stream-table' },
        h('thead', null, h('tr', null, ['Stream', 'Events', 'Stored', 'First event', 'Last event', 'Last ingestion'].map((c) => h('th', null, c)))),
        h('tbody', null, streams.map((st) => [
          h('tr', { class: st.name === this.stream ? 'is-selected' : '', dataset: { stream: st.name } },
            h('td', null, h('button', { type: 'button', class: 'linklike mono', onClick: () => this.showStream(st.name) }, st.name)),
            h('td', { class: 'num' }, formatCount(st.records)),
            h('td', { class: 'num' }, formatBytes(st.storedBytes)),
            h('td', null, st.firstEvent ? formatDateTime(Date.parse(st.firstEvent)) : '–'),
            h('td', null, st.lastEvent ? formatDateTime(Date.parse(st.lastEvent)) : '–'),
            h('td', null, st.lastIngestion ? formatRelative(Date.parse(st.lastIngestion) * 1000) : '–')),
          st.records === 0 ? h('tr', { class: 'logs-note' }, h('td', { colspan: 6 }, whyEmpty(g && g.missingStream === st.name ? g : {}))) : null,
        ]))));
    this.streams.open = empty > 0 || !!this.stream;
  }

  // showStream narrows the events to one stream ('' for every stream).
  showStream(name) {
    this.stream = name;
    for (const tr of this.streams.querySelectorAll('tr[data-stream]')) tr.classList.toggle('is-selected', tr.dataset.stream === name);
    this.search();
  }

  // narrow searches the range [start, end] of epoch milliseconds, or the lookback with null.
  narrow(range) {
    this.range = range;
    this.search();
  }

  async search() {
    this.stopLive();
    const params = new URLSearchParams({ group: this.group, lookback: this.lookback.value, limit: '500' });
    if (this.patternInput.value) params.set('pattern', this.patternInput.value);
    const shown = new URLSearchParams({ lookback: this.lookback.value });
    if (this.patternInput.value) shown.set('pattern', this.patternInput.value);
    if (this.range) {
      params.set('start', String(Math.floor(this.range.start * 1000))); // the API's times are microseconds
      params.set('end', String(Math.ceil(this.range.end * 1000)));
      params.delete('lookback');
      shown.set('start', String(Math.floor(this.range.start)));
      shown.set('end', String(Math.ceil(this.range.end)));
    }
    clear(this.rangeChip).append(this.range ? h('span', { class: 'chip' }, formatTimeRange(this.range.start, this.range.end), ' ',
      h('button', { type: 'button', class: 'linklike', 'aria-label': 'Back to the time range chosen', onClick: () => this.narrow(null) }, '×')) : '');
    if (this.stream) {
      params.set('stream', this.stream);
      shown.set('stream', this.stream);
    }
    clear(this.streamChip).append(this.stream ? h('span', { class: 'chip' }, 'Stream ', h('span', { class: 'mono' }, this.stream), ' ',
      h('button', { type: 'button', class: 'linklike', 'aria-label': 'Every stream', onClick: () => this.showStream('') }, '×')) : '');
    setURL(`/logs/${encodeURIComponent(this.group)}?${shown}`);
    setText(this.summary, 'Searching…');
    let res;
    try {
      res = await getJSON('/api/v1/log-events', params, this.abort.signal);
    } catch (err) {
      if (err.name !== 'AbortError') showError(err.message);
      return;
    }
    this.showPatternError(res.patternError);
    this.histogram.hidden = !!res.patternError;
    this.lines.hidden = !!res.patternError;
    if (res.patternError) {
      setText(this.summary, '');
      return;
    }
    setText(this.summary, `${plural(res.matched, 'event')} ${res.matched === 1 ? 'matches' : 'match'}, of ${formatCount(res.scanned)} read${res.complete ? '' : ' (stopped early: narrow the time range)'}${res.events.length < res.matched ? `; the newest ${res.events.length} shown` : ''}`);
    await this.drawHistogram(res.histogram, res.binSeconds);
    clear(this.lines);
    if (!res.events.length) {
      this.lines.appendChild(h('li', { class: 'logs-empty' }, await this.emptyReason()));
      return;
    }
    for (const e of res.events) this.lines.appendChild(this.line(e));
  }

  async emptyReason() {
    try {
      const groups = await getJSON('/api/v1/log-groups', null, this.abort.signal);
      const g = groups.find((x) => x.name === this.group);
      if (g && g.records === 0) return whyEmpty(g);
    } catch { /* the plain message below does */ }
    return 'No events match in this time range.';
  }

  showPatternError(pe) {
    this.patternError.hidden = !pe;
    clear(this.patternError);
    if (!pe) return;
    const p = this.patternInput.value;
    const end = Math.max(pe.end, pe.start + 1);
    this.patternError.append(
      h('div', null, `The filter pattern has an error at character ${pe.start + 1}: ${pe.msg}`),
      h('div', { class: 'mono logs-pattern-echo' }, p.slice(0, pe.start), h('mark', null, p.slice(pe.start, end) || ' '), p.slice(end)));
    this.patternInput.focus();
    this.patternInput.setSelectionRange(pe.start, Math.min(end, p.length));
  }

  // drawHistogram charts the matches a bin at a time over the range searched.
  async drawHistogram(bins, binSeconds) {
    const echarts = await loadECharts();
    if (!this.chart) {
      this.chart = echarts.init(this.histogram);
      brush(this.chart, this.histogram, (a, b) => {
        const [start, end] = [a[0], b[0]].sort((x, y) => x - y);
        if (end - start >= 1000) this.narrow({ start, end });
      });
    }
    const box = this.histogram.querySelector('.brush-box');
    if (box) box.hidden = true; // the range it marked is the one now drawn
    const step = binSeconds * 1000;
    const data = bins.map((b) => [Date.parse(b.time), b.count]);
    const start = data.length ? data[0][0] : Date.now() - 3600e3;
    const end = data.length ? data[data.length - 1][0] + step : Date.now();
    this.chart.setOption({
      animation: false,
      grid: { left: 48, right: 12, top: 8, bottom: 22 },
      tooltip: tooltip('item', (p) => h('div', { class: 'tt' }, h('div', { class: 'tt-title' }, formatTimeRange(p.value[2], p.value[2] + step)),
        h('b', null, plural(p.value[1], 'event')))),
      xAxis: { type: 'time', min: start, max: end, axisLabel: { ...AXIS_LABEL, hideOverlap: true, formatter: timeAxisLabel(end - start) } },
      yAxis: { type: 'value', minInterval: 1, splitNumber: 2, axisLabel: AXIS_LABEL, splitLine: SPLIT_LINE },
      series: [{ type: 'bar', data: data.map(([t, n]) => [t + step / 2, n, t]), encode: { x: 0, y: 1 },
        barWidth: Math.max(1, (this.histogram.clientWidth - 60) / Math.max(1, data.length) - 1), itemStyle: { color: '#3b6fd4' } }],
    }, true);
  }

  line(e, live = false) {
    const li = h('li', { class: `logs-line${live ? ' is-live' : ''}` });
    const head = h('button', { type: 'button', class: 'logs-line-head', 'aria-expanded': 'false' },
      h('span', { class: 'logs-time mono' }, formatDateTime(Date.parse(e.time))),
      h('span', { class: 'logs-stream mono muted' }, e.stream),
      h('span', { class: 'logs-msg mono' }, e.message));
    head.addEventListener('click', () => {
      const open = li.classList.toggle('is-open');
      head.setAttribute('aria-expanded', String(open));
      if (open && !li.querySelector('.logs-detail')) li.appendChild(this.detail(e));
    });
    li.appendChild(head);
    if (e.traceID) li.appendChild(h('a', { class: 'logs-trace', href: `/trace/${encodeURIComponent(e.traceID)}`, 'data-nav': true, title: `Trace ${e.traceID}` }, 'trace →'));
    return li;
  }

  detail(e) {
    const rows = [['Time', formatDateTime(Date.parse(e.time))], ['Stream', e.stream]];
    if (e.traceID) rows.push(['Trace', e.traceID], ['Span', e.spanID]);
    let fields = null;
    try {
      const doc = JSON.parse(e.message);
      if (doc && typeof doc === 'object') fields = flatten(doc);
    } catch { /* not JSON: the message alone */ }
    return h('div', { class: 'logs-detail' },
      h('dl', null, rows.map(([k, v]) => [h('dt', null, k), h('dd', { class: 'mono' }, v)]),
        fields ? fields.map(([k, v]) => [h('dt', { class: 'mono' }, k), h('dd', { class: 'mono' }, v)]) : null),
      h('pre', { class: 'logs-full mono' }, e.message));
  }

  startLive() {
    const params = new URLSearchParams({ group: this.group });
    if (this.patternInput.value) params.set('pattern', this.patternInput.value);
    this.source = new EventSource(`/api/v1/log-tail?${params}`);
    this.liveBtn.classList.add('is-active');
    setText(this.liveBtn, 'Stop live tail');
    setText(this.summary, 'Live: new matching lines appear at the top as they arrive.');
    this.source.addEventListener('records', (msg) => {
      const { events, dropped } = JSON.parse(msg.data);
      for (const e of events) this.lines.insertBefore(this.line(e, true), this.lines.firstChild);
      while (this.lines.children.length > MAX_LIVE_LINES) this.lines.lastChild.remove();
      if (dropped) setText(this.summary, `Live: ${formatCount(dropped)} lines arrived faster than shown and were skipped.`);
    });
    this.source.onerror = () => {
      if (this.source && this.source.readyState === EventSource.CLOSED) this.stopLive();
    };
  }

  stopLive() {
    if (!this.source) return;
    this.source.close();
    this.source = null;
    this.liveBtn.classList.remove('is-active');
    setText(this.liveBtn, 'Live tail');
  }
}

/** flatten lists a JSON document's leaves as [dotted path, text]. */
export function flatten(doc, prefix = '', out = []) {
  for (const [k, v] of Object.entries(doc)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') flatten(v, key, out);
    else out.push([key, v === null ? 'null' : String(v)]);
  }
  return out;
}
