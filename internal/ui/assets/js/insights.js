// The Logs Insights page (/insights): log groups, a time range, a query editor, the results
// as a table and, for stats … by bin(), a chart of each statistic over time. Errors in the
// query are shown at their place.
import { h, clear, setText } from './dom.js';
import { getJSON, sendJSON } from './api.js';
import { setURL, showError, emptyState } from './shell.js';
import { formatCount, plural, columnFormat, formatTimeRange, timeAxisLabel } from './format.js';
import { loadECharts, tooltip, seriesRows, AXIS_LABEL, SPLIT_LINE } from './charts.js';
import { seriesColor, PALETTE } from './colors.js';

const LOOKBACKS = [['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['6h', 'Last 6 hours'], ['24h', 'Last day'], ['168h', 'Last 7 days']];
const DEFAULT_QUERY = 'fields @timestamp, @message\n| sort @timestamp desc\n| limit 100';

export class InsightsPage {
  async mount(el, route) {
    document.title = 'Logs Insights · lookout';
    this.el = el;
    this.abort = new AbortController();
    const p = route.params;
    this.editor = h('textarea', { class: 'mono insights-editor', rows: 5, spellcheck: 'false', 'aria-label': 'Query', value: p.get('query') || DEFAULT_QUERY });
    this.lookback = h('select', { 'aria-label': 'Time range' }, LOOKBACKS.map(([v, label]) => h('option', { value: v, selected: v === (p.get('lookback') || '1h') }, label)));
    this.groupBox = h('div', { class: 'insights-groups', role: 'group', 'aria-label': 'Log groups' });
    this.error = h('div', { class: 'logs-pattern-error', role: 'alert', hidden: true });
    this.summary = h('div', { class: 'muted small' });
    this.chart = h('div', { class: 'insights-charts', hidden: true, 'aria-label': 'Results over time' });
    this.charts = [];
    this.results = h('div', { class: 'insights-results' });
    window.addEventListener('resize', () => { for (const c of this.charts) c.resize(); }, { signal: this.abort.signal });
    this.editor.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) this.run();
    });
    el.appendChild(h('div', { class: 'logs-page' },
      h('h1', { class: 'logs-title' }, 'Logs Insights'),
      this.groupBox,
      h('form', { class: 'insights-form', onSubmit: (e) => { e.preventDefault(); this.run(); } },
        this.editor,
        h('div', { class: 'logs-toolbar' }, this.lookback, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Run query'),
          h('span', { class: 'muted small' }, 'Ctrl+Enter runs it'))),
      this.error, this.summary, this.chart, this.results));
    let groups;
    try {
      groups = await getJSON('/api/v1/log-groups', null, this.abort.signal);
    } catch (err) {
      if (err.name !== 'AbortError') showError(err.message);
      return;
    }
    const chosen = new Set(p.getAll('group'));
    if (!chosen.size && groups.length) chosen.add(groups[0].name);
    this.boxes = groups.map((g) => h('input', { type: 'checkbox', value: g.name, checked: chosen.has(g.name) }));
    append(this.groupBox, groups.length ? this.boxes.map((b) => h('label', { class: 'insights-group mono' }, b, b.value)) : emptyState('No log groups yet', null));
    if (p.get('query')) this.run();
  }

  unmount() {
    this.abort.abort();
    this.disposeCharts();
  }

  disposeCharts() {
    for (const c of this.charts) c.dispose();
    this.charts = [];
  }

  focusSearch() {
    this.editor.focus();
  }

  async run() {
    const groups = (this.boxes || []).filter((b) => b.checked).map((b) => b.value);
    if (!groups.length) {
      showError('Choose at least one log group.');
      return;
    }
    const url = new URLSearchParams({ lookback: this.lookback.value, query: this.editor.value });
    for (const g of groups) url.append('group', g);
    setURL(`/insights?${url}`);
    setText(this.summary, 'Running…');
    this.runs = (this.runs || 0) + 1;
    let res;
    try {
      res = await sendJSON('/api/v1/log-insights', { groups, query: this.editor.value, lookback: this.lookback.value }, this.abort.signal);
    } catch (err) {
      if (err.name !== 'AbortError') showError(err.message);
      return;
    }
    this.showError(res.queryError);
    clear(this.results);
    this.disposeCharts();
    clear(this.chart);
    this.chart.hidden = true;
    if (res.queryError) {
      setText(this.summary, '');
      return;
    }
    setText(this.summary, `${plural(res.rows.length, 'row')}; ${formatCount(res.matched)} of ${plural(res.scanned, 'record')} matched${res.complete ? '' : ' (stopped reading early: narrow the time range)'}`);
    if (!res.rows.length) {
      this.results.appendChild(emptyState('No results', 'Nothing in these groups and this time range matches.'));
      return;
    }
    const fmts = res.fields.map((_, i) => fractionFormat(res.rows, i));
    this.results.appendChild(h('table', { class: 'logs-table insights-table' },
      h('thead', null, h('tr', null, res.fields.map((f) => h('th', { class: 'mono' }, f)))),
      h('tbody', null, res.rows.map((r) => h('tr', null, r.map((v, i) => h('td', { class: 'mono', title: fmts[i] ? v : null }, fmts[i] ? fmts[i](Number(v)) : v)))))));
    if (/^bin\(/i.test(res.fields[0]) && res.fields.length > 1) await this.drawBins(res);
  }

  // drawBins charts stats … by bin(): one chart for each statistic whose values are numbers,
  // over time, with a line for each combination of the other groupings' values (the ten
  // largest), or bars when there are none.
  async drawBins(res) {
    const rows = res.rows.map((r) => ({ t: Date.parse(`${r[0].replace(' ', 'T')}Z`), r }))
      .filter((x) => Number.isFinite(x.t)).sort((a, b) => a.t - b.t);
    const cols = res.fields.map((_, i) => i).slice(1);
    const keys = cols.filter((i) => (res.by || []).includes(res.fields[i]));
    const numeric = cols.filter((i) => !keys.includes(i) && rows.every(({ r }) => r[i] === '' || Number.isFinite(Number(r[i]))));
    if (!rows.length || !numeric.length) return;
    const run = this.runs;
    const echarts = await loadECharts();
    if (run !== this.runs) return; // another query ran meanwhile
    this.chart.hidden = false; // before the charts measure their boxes
    const times = [...new Set(rows.map((x) => x.t))];
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const step = gaps.length ? Math.min(...gaps) : 60e3; // the bins' width, as near as the rows tell
    const { start, end } = res; // the range read
    const label = (r) => keys.map((i) => r[i]).join(' · ');
    const totals = new Map();
    for (const { r } of rows) totals.set(label(r), (totals.get(label(r)) || 0) + (Number(r[numeric[0]]) || 0));
    const groups = [...totals].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([g]) => g);
    for (const col of numeric) {
      const box = h('div', { class: 'qchart' });
      this.chart.appendChild(h('div', { class: 'qchart-card' }, h('div', { class: 'qchart-title' }, res.fields[col]), box));
      const fmt = columnFormat(rows.map(({ r }) => Number(r[col])));
      const series = groups.map((g, n) => ({
        name: keys.length ? g : res.fields[col],
        type: keys.length ? 'line' : 'bar',
        showSymbol: times.length < 40,
        barMaxWidth: 24,
        lineStyle: { width: 1.5 },
        itemStyle: { color: keys.length ? seriesColor(n) : PALETTE[0] },
        data: rows.filter(({ r }) => label(r) === g && r[col] !== '').map(({ t, r }) => [t, Number(r[col])]),
      }));
      const chart = echarts.init(box, null, { renderer: 'canvas' });
      this.charts.push(chart);
      chart.setOption({
        animation: false,
        grid: { left: 64, right: 16, top: keys.length ? 28 : 12, bottom: 28 },
        legend: keys.length ? { type: 'scroll', top: 0, textStyle: { fontSize: 11 } } : undefined,
        tooltip: tooltip('axis', (ps) => ps.length && seriesRows(formatTimeRange(ps[0].value[0], ps[0].value[0] + step), ps, fmt)),
        xAxis: { type: 'time', min: start, max: end, axisLabel: { ...AXIS_LABEL, hideOverlap: true, formatter: timeAxisLabel(end - start) } },
        yAxis: { type: 'value', splitLine: SPLIT_LINE, axisLabel: { ...AXIS_LABEL, formatter: fmt } },
        series,
      });
    }
  }

  showError(qe) {
    this.error.hidden = !qe;
    clear(this.error);
    if (!qe) return;
    const q = this.editor.value;
    const end = Math.max(qe.end, qe.start + 1);
    this.error.append(h('div', null, `The query has an error at character ${qe.start + 1}: ${qe.msg}`),
      h('div', { class: 'mono logs-pattern-echo' }, q.slice(0, qe.start), h('mark', null, q.slice(qe.start, end) || ' '), q.slice(end)));
    this.editor.focus();
    this.editor.setSelectionRange(qe.start, Math.min(end, q.length));
  }
}

// fractionFormat is the formatter of column i when its values are numbers and some have a
// fraction (averages, say), so that they line up; null to show the column as it is.
function fractionFormat(rows, i) {
  const nums = rows.map((r) => (r[i] === '' ? 0 : Number(r[i])));
  if (!nums.every(Number.isFinite) || nums.every(Number.isInteger)) return null;
  return columnFormat(nums);
}

function append(el, children) {
  for (const c of [].concat(children)) el.appendChild(c);
}
