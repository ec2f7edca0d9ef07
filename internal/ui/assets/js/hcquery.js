// The query builder's model: Honeycomb query specifications, the short text
// forms people type for each clause ("P99(duration_ms)", "http.status_code >= 500",
// "COUNT desc", "COUNT > 10"), and the URL that shares a query. Pure functions:
// jstest/hcquery.test.mjs tests them without a browser.

export const CALC_OPS = ['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX', 'P001', 'P01', 'P05', 'P10', 'P20', 'P25',
  'P50', 'P75', 'P80', 'P90', 'P95', 'P99', 'P999', 'HEATMAP', 'CONCURRENCY', 'RATE_AVG', 'RATE_SUM', 'RATE_MAX'];
const NO_COLUMN = new Set(['COUNT', 'CONCURRENCY']);

// Longest first, so "does-not-start-with" is not read as "starts-with".
export const FILTER_OPS = ['does-not-start-with', 'does-not-end-with', 'does-not-contain', 'does-not-exist', 'starts-with',
  'ends-with', 'contains', 'exists', 'not-in', 'in', '>=', '<=', '!=', '=', '>', '<'];
const NO_VALUE = new Set(['exists', 'does-not-exist']);
const LIST_VALUE = new Set(['in', 'not-in']);
export const HAVING_OPS = ['>=', '<=', '!=', '=', '>', '<'];

export const TIME_RANGES = [[600, 'Last 10 minutes'], [1800, 'Last 30 minutes'], [3600, 'Last hour'], [7200, 'Last 2 hours'],
  [21600, 'Last 6 hours'], [86400, 'Last 24 hours'], [604800, 'Last 7 days']];
export const GRANULARITIES = [[0, 'auto'], [10, '10 s'], [30, '30 s'], [60, '1 min'], [300, '5 min'], [900, '15 min'], [3600, '1 hour']];

export class ParseError extends Error {}

/** calcKey is the name of a calculation's value in results: "OP" or "OP(column)". */
export function calcKey(c) {
  if (c.name) return c.name;
  return c.column ? `${c.op}(${c.column})` : c.op;
}

/** isDurationField tells the fields that hold a duration in milliseconds: duration_ms and other names ending in _ms. */
export function isDurationField(name) {
  return /_ms$/.test(String(name));
}

/** calcIsDuration tells the calculations whose values are milliseconds: those of a duration field that are not counts or rates. */
export function calcIsDuration(c) {
  return Boolean(c.column) && isDurationField(c.column) && !/^(COUNT|CONCURRENCY|RATE_)/.test(c.op);
}

/** parseCalc reads "P99(duration_ms)" or "COUNT". */
export function parseCalc(text) {
  const s = text.trim();
  const m = /^([A-Za-z0-9_]+)\s*(?:\((.*)\))?$/.exec(s);
  if (!m) throw new ParseError(`"${s}" is not a calculation; write e.g. COUNT or P99(duration_ms)`);
  const op = m[1].toUpperCase();
  if (!CALC_OPS.includes(op)) throw new ParseError(`unknown calculation ${m[1]}; use one of ${CALC_OPS.join(', ')}`);
  const column = (m[2] || '').trim();
  if (NO_COLUMN.has(op) && column) throw new ParseError(`${op} takes no column`);
  if (!NO_COLUMN.has(op) && !column) throw new ParseError(`${op} needs a column, e.g. ${op}(duration_ms)`);
  return column ? { op, column } : { op };
}

/** parseValue reads a typed value: numbers and true/false are typed, "quoted" text is kept as text. */
export function parseValue(text) {
  const s = text.trim();
  if (/^".*"$/.test(s) && s.length >= 2) return s.slice(1, -1);
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  return s;
}

function formatValue(v) {
  if (typeof v === 'string' && (v === 'true' || v === 'false' || v.trim() !== v || parseValue(v) !== v)) return JSON.stringify(v);
  return String(v);
}

/** parseFilter reads "column op value": "http.status_code >= 500", "db.system exists", "http.route in /a, /b". */
export function parseFilter(text) {
  const s = text.trim();
  for (const op of FILTER_OPS) {
    const word = /^[a-z-]+$/.test(op);
    const re = word ? new RegExp(`^(.+?)\\s+${op}(?:\\s+(.*))?$`) : new RegExp(`^(.+?)\\s*${op.replace(/[<>=!]/g, '\\$&')}\\s*(.*)$`);
    const m = re.exec(s);
    if (!m) continue;
    const column = m[1].trim();
    if (!column || /[<>=!]$/.test(column)) continue;
    const rest = (m[2] || '').trim();
    if (NO_VALUE.has(op)) {
      if (rest) throw new ParseError(`${op} takes no value`);
      return { column, op };
    }
    if (rest === '') throw new ParseError(`"${s}" needs a value after ${op}`);
    if (LIST_VALUE.has(op)) return { column, op, value: rest.split(',').map(parseValue).filter((v) => v !== '') };
    return { column, op, value: parseValue(rest) };
  }
  throw new ParseError(`"${s}" is not a filter; write e.g. http.status_code >= 500 or db.system exists`);
}

export function formatFilter(f) {
  if (NO_VALUE.has(f.op)) return `${f.column} ${f.op}`;
  if (LIST_VALUE.has(f.op)) return `${f.column} ${f.op} ${(f.value || []).map(formatValue).join(', ')}`;
  return `${f.column} ${f.op} ${formatValue(f.value)}`;
}

/** parseOrder reads "COUNT desc", "P99(duration_ms)" or "http.route asc"; calcs tells calculations from breakdowns. */
export function parseOrder(text) {
  const s = text.trim();
  const m = /^(.+?)(?:\s+(asc|desc|ascending|descending))?$/i.exec(s);
  if (!m) throw new ParseError(`"${s}" is not an order`);
  const order = m[2] && m[2].toLowerCase().startsWith('desc') ? 'descending' : 'ascending';
  const target = m[1].trim();
  let o;
  try {
    const c = parseCalc(target);
    o = { op: c.op };
    if (c.column) o.column = c.column;
  } catch {
    o = { column: target };
  }
  if (order === 'descending') o.order = order;
  return o;
}

export function formatOrder(o) {
  const target = o.op ? calcKey(o) : o.column;
  return o.order === 'descending' ? `${target} desc` : target;
}

/** parseHaving reads "COUNT > 10" or "P99(duration_ms) >= 500". */
export function parseHaving(text) {
  const s = text.trim();
  const m = /^(.+?)\s*(>=|<=|!=|=|>|<)\s*(.+)$/.exec(s);
  if (!m) throw new ParseError(`"${s}" is not a having; write e.g. COUNT > 10`);
  const c = parseCalc(m[1]);
  const value = Number(m[3]);
  if (!Number.isFinite(value)) throw new ParseError(`a having compares with a number, not "${m[3]}"`);
  const h = { calculate_op: c.op, op: m[2], value };
  if (c.column) h.column = c.column;
  return h;
}

export function formatHaving(h) {
  return `${calcKey({ op: h.calculate_op, column: h.column })} ${h.op} ${h.value}`;
}

/** rangeLabel names a relative time range of seconds: "Last hour", "Last 12 minutes". */
export function rangeLabel(seconds) {
  const preset = TIME_RANGES.find(([s]) => s === seconds);
  if (preset) return preset[1];
  const [n, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return n === 1 ? `Last ${unit}` : `Last ${n} ${unit}s`;
}

/**
 * fitTimeRange proposes a shorter range for query q when its result res holds events in
 * the latest part of its relative range only, less than half of it (as when lookout began
 * receiving data minutes ago): {time_range, since}, the seconds to cover the events and a
 * time bucket more, in whole minutes and at least five, and the start (ms) of the first
 * bucket with events. Null when the range fits, is absolute, or holds no events.
 */
export function fitTimeRange(q, res) {
  if (!(q.time_range > 0) || q.start_time || q.end_time) return null;
  const times = (res.series || []).map((r) => Date.parse(r.time)).filter(Number.isFinite);
  if (!times.length) return null;
  const since = Math.min(...times);
  const covered = Date.parse(res.end) - since + res.granularity * 1000;
  if (covered * 2 > q.time_range * 1000) return null;
  const seconds = Math.max(5, Math.ceil(covered / 60e3)) * 60;
  return seconds < q.time_range ? { time_range: seconds, since } : null;
}

/** defaultQuery is what the page starts with. */
export function defaultQuery() {
  return { calculations: [{ op: 'COUNT' }, { op: 'HEATMAP', column: 'duration_ms' }], time_range: 3600 };
}

/** normalize drops empty clauses so equal queries have equal URLs. */
export function normalize(q) {
  const out = {};
  for (const k of ['calculations', 'filters', 'breakdowns', 'orders', 'havings']) {
    if (Array.isArray(q[k]) && q[k].length) out[k] = q[k];
  }
  if (q.filter_combination === 'OR') out.filter_combination = 'OR';
  for (const k of ['limit', 'time_range', 'start_time', 'end_time', 'granularity']) {
    if (Number.isFinite(q[k]) && q[k] > 0) out[k] = q[k];
  }
  return out;
}

/** toParams and fromParams carry a query in the page's URL: /query?dataset=…&q=<json>. */
export function toParams(dataset, q) {
  const p = new URLSearchParams();
  if (dataset) p.set('dataset', dataset);
  p.set('q', JSON.stringify(normalize(q)));
  return p;
}

export function fromParams(params) {
  const dataset = params.get('dataset') || '';
  let q = defaultQuery();
  const raw = params.get('q');
  if (raw) {
    try {
      const parsed = JSON.parse(raw);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) q = parsed;
    } catch {
      // a damaged link opens the default query
    }
  }
  return { dataset, query: q };
}

/** groupLabel names a result row by its breakdown values. */
export function groupLabel(breakdowns, data) {
  if (!breakdowns || !breakdowns.length) return 'all';
  return breakdowns.map((b) => (data[b] == null ? '(none)' : String(data[b]))).join(', ');
}

/** groupFilters are the filters that select one result row's group. */
export function groupFilters(breakdowns, data) {
  return (breakdowns || []).filter((b) => !/^(root|any)\./.test(b)).map((b) => (data[b] == null
    ? { column: b, op: 'does-not-exist' }
    : { column: b, op: '=', value: data[b] }));
}
