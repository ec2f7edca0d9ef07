// The Logs Insights page (/insights): log groups, a time range, a query editor, the results
// as a table and, for stats … by bin(), their counts as bars over time. Errors in the query
// are shown at their place.
import { h, clear, setText, setStyle } from './dom.js';
import { getJSON, sendJSON } from './api.js';
import { setURL, showError, emptyState } from './shell.js';
import { formatCount, plural } from './format.js';

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
    this.chart = h('div', { class: 'logs-histogram', hidden: true, 'aria-label': 'Results over time' });
    this.results = h('div', { class: 'insights-results' });
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
    let res;
    try {
      res = await sendJSON('/api/v1/log-insights', { groups, query: this.editor.value, lookback: this.lookback.value }, this.abort.signal);
    } catch (err) {
      if (err.name !== 'AbortError') showError(err.message);
      return;
    }
    this.showError(res.queryError);
    clear(this.results);
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
    this.results.appendChild(h('table', { class: 'logs-table insights-table' },
      h('thead', null, h('tr', null, res.fields.map((f) => h('th', { class: 'mono' }, f)))),
      h('tbody', null, res.rows.map((r) => h('tr', null, r.map((v) => h('td', { class: 'mono' }, v)))))));
    if (/^bin\(/i.test(res.fields[0]) && res.fields.length > 1) this.drawBins(res);
  }

  // drawBins shows the first aggregate of stats … by bin() as bars, in time order.
  drawBins(res) {
    const col = 1;
    const rows = [...res.rows].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const max = Math.max(1, ...rows.map((r) => Number(r[col]) || 0));
    for (const r of rows) {
      const bar = h('div', { class: 'logs-bar', title: `${r[0]} UTC: ${r[col]} ${res.fields[col]}` });
      setStyle(bar, { height: `${Math.round(((Number(r[col]) || 0) / max) * 100)}%` });
      this.chart.appendChild(h('div', { class: 'logs-bin' }, bar));
    }
    this.chart.hidden = false;
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

function append(el, children) {
  for (const c of [].concat(children)) el.appendChild(c);
}
