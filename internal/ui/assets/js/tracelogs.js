// A trace's log lines: those whose record names the trace (OpenTelemetry's trace context, or
// a trace id the line mentions), shown under the trace header and, per span, in the span
// detail panel. All of it is text.
import { h } from './dom.js';
import { getJSON } from './api.js';
import { formatDuration, plural } from './format.js';

/** loadTraceLogs returns the trace's log records, oldest first ([] when lookout keeps no logs). */
export async function loadTraceLogs(traceID, signal) {
  try {
    return await getJSON('/api/v1/logs', new URLSearchParams({ traceID, limit: '1000' }), signal);
  } catch (err) {
    if (err.name === 'AbortError' || err.status !== 404) throw err;
    return [];
  }
}

/**
 * logMarks places the records on the waterfall: a map from span index to the marks of the
 * records logged in that span (those that name no span of the trace go to its root), each
 * {t (µs from the trace start), text, severity, error}, by time.
 */
export function logMarks(model, logs) {
  const out = new Map();
  for (const r of logs) {
    const i = r.spanID && model.byID.has(r.spanID) ? model.byID.get(r.spanID) : model.root;
    const us = timeMicros(r.time);
    if (i < 0 || !Number.isFinite(us)) continue;
    const severity = r.severityText ? String(r.severityText) : '';
    let t = us - model.traceStart;
    if (t < 0 && t > -1000) t = 0; // a time kept to the millisecond, in the trace's first one
    const mark = { t, text: logText(r), severity, error: /^(error|fatal|critical|emerg|alert)/i.test(severity) };
    if (out.has(i)) out.get(i).push(mark);
    else out.set(i, [mark]);
  }
  for (const marks of out.values()) marks.sort((a, b) => a.t - b.t);
  return out;
}

/** timeMicros reads an RFC 3339 time as µs since the epoch, keeping the microseconds Date drops. */
export function timeMicros(iso) {
  const ms = Date.parse(iso);
  const frac = /\.(\d+)/.exec(iso);
  return Math.floor(ms / 1000) * 1e6 + (frac ? Number(frac[1].slice(0, 6).padEnd(6, '0')) : 0);
}

/** logText is a record's body as one line of text. */
function logText(r) {
  return typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
}

/**
 * logLine renders a record with its time after the trace's start (µs); onSpan(spanID), when
 * given, opens the span the record belongs to.
 */
function logLine(r, traceStartUs, onSpan) {
  const us = timeMicros(r.time);
  return h('li', { class: 'trace-log' },
    h('span', { class: 'mono muted' }, `+${formatDuration(Math.max(0, us - traceStartUs))}`),
    h('a', { class: 'mono small', href: `/logs/${encodeURIComponent(r.group)}`, 'data-nav': true }, r.group),
    r.severityText ? h('span', { class: 'badge' }, r.severityText) : null,
    h('span', { class: 'mono trace-log-msg' }, logText(r)),
    onSpan && r.spanID ? h('button', { type: 'button', class: 'btn btn-small', onClick: () => onSpan(r.spanID) }, 'span') : null);
}

/** renderTraceLogs is the trace page's section of the trace's log lines. */
export function renderTraceLogs(logs, traceStartUs, onSpan) {
  return h('details', { class: 'trace-logs', open: logs.length > 0 && logs.length <= 20 },
    h('summary', null, `Logs · ${plural(logs.length, 'line')}`),
    logs.length
      ? h('ol', { class: 'trace-log-list' }, logs.map((r) => logLine(r, traceStartUs, onSpan)))
      : h('div', { class: 'muted small pad' }, 'No log lines name this trace.'));
}

/** renderSpanLogs is the span detail's section of the lines logged in that span. */
export function renderSpanLogs(logs, spanID, traceStartUs) {
  const mine = logs.filter((r) => r.spanID === spanID);
  return h('details', { class: mine.length ? 'detail-section' : 'detail-section is-empty', open: mine.length > 0, dataset: { section: 'span-logs' } },
    h('summary', null, 'Log lines', h('span', { class: 'count' }, String(mine.length))),
    mine.length ? h('ol', { class: 'trace-log-list' }, mine.map((r) => logLine(r, traceStartUs))) : h('div', { class: 'muted small pad' }, 'None'));
}
