// The search page's state, its URL form and its API form. Pure functions,
// tested by jstest/.
//
// The UI URL (/search?...) keeps what the user typed, so a link reproduces
// the form: service, operation, tags (logfmt text), minDuration, maxDuration,
// lookback (15m|1h|6h|24h|7d|custom), start and end (µs, with lookback=custom),
// limit and sort. The API form (/api/v1/trace-summaries?...) has absolute
// start/end and tags as a JSON object.

import { plural } from './format.js';

export const LOOKBACKS = [
  ['15m', 'Last 15 minutes', 15 * 60e3],
  ['1h', 'Last hour', 3600e3],
  ['6h', 'Last 6 hours', 6 * 3600e3],
  ['24h', 'Last 24 hours', 24 * 3600e3],
  ['7d', 'Last 7 days', 7 * 86400e3],
  ['custom', 'Custom range', 0],
];

export const SORTS = [
  ['recent', 'Most recent'],
  ['longest', 'Longest first'],
  ['shortest', 'Shortest first'],
  ['spans', 'Most spans'],
  ['errors', 'Most errors'],
];

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1500;

/** defaultState is an empty search over the last hour. */
export function defaultState() {
  return {
    service: '', operation: '', tags: '', minDuration: '', maxDuration: '',
    lookback: '1h', start: '', end: '', limit: DEFAULT_LIMIT, sort: 'recent',
  };
}

/** stateFromParams reads a search state from the UI URL's query string. */
export function stateFromParams(params) {
  const s = defaultState();
  const get = (k) => (params.get(k) || '').trim();
  s.service = get('service');
  s.operation = get('operation');
  s.tags = get('tags');
  if (s.tags.startsWith('{')) {
    // Jaeger's URL form: tags as a JSON object.
    try {
      s.tags = formatTags(JSON.parse(s.tags));
    } catch { /* keep the text; validation reports it */ }
  }
  s.minDuration = get('minDuration');
  s.maxDuration = get('maxDuration');
  const lb = get('lookback');
  if (LOOKBACKS.some(([k]) => k === lb)) s.lookback = lb;
  s.start = get('start');
  s.end = get('end');
  if (!params.has('lookback') && (s.start || s.end)) s.lookback = 'custom';
  const limit = parseInt(get('limit'), 10);
  if (limit > 0) s.limit = Math.min(limit, MAX_LIMIT);
  const sort = get('sort');
  if (SORTS.some(([k]) => k === sort)) s.sort = sort;
  return s;
}

/** paramsFromState writes a search state as the UI URL's query string, leaving out defaults. */
export function paramsFromState(s) {
  const p = new URLSearchParams();
  const d = defaultState();
  for (const k of ['service', 'operation', 'tags', 'minDuration', 'maxDuration', 'lookback', 'limit', 'sort']) {
    const v = s[k];
    if (v !== '' && v != null && (String(v) !== String(d[k]) || k === 'lookback')) p.set(k, String(v));
  }
  if (s.lookback === 'custom') {
    if (s.start) p.set('start', String(s.start));
    if (s.end) p.set('end', String(s.end));
  }
  return p;
}

/**
 * apiParams turns a state into the trace-summaries query, with absolute
 * times computed against nowMs. It returns {params} or {error, field}.
 */
export function apiParams(s, nowMs = Date.now()) {
  const p = new URLSearchParams();
  if (s.service) p.set('service', s.service);
  if (s.service && s.operation) p.set('operation', s.operation);
  const tags = parseTags(s.tags);
  if (tags.error) return { error: tags.error, field: 'tags' };
  if (Object.keys(tags.tags).length) p.set('tags', JSON.stringify(tags.tags));
  for (const k of ['minDuration', 'maxDuration']) {
    if (!s[k]) continue;
    const d = parseDuration(s[k]);
    if (d === null) return { error: `${k === 'minDuration' ? 'Min' : 'Max'} duration: use a number and a unit, e.g. 100ms, 1.5s, 250us`, field: k };
    p.set(k, normalizeDuration(s[k]));
  }
  if (s.minDuration && s.maxDuration && parseDuration(s.minDuration) > parseDuration(s.maxDuration)) {
    return { error: 'Min duration is greater than max duration', field: 'minDuration' };
  }
  let start, end;
  if (s.lookback === 'custom') {
    start = Number(s.start);
    end = s.end ? Number(s.end) : nowMs * 1000;
    if (!s.start || !Number.isFinite(start) || !Number.isFinite(end)) return { error: 'Custom range: write the start and end as YYYY-MM-DD HH:MM:SS', field: 'start' };
    if (start >= end) return { error: 'Custom range: the start must be before the end', field: 'start' };
  } else {
    const lb = LOOKBACKS.find(([k]) => k === s.lookback) || LOOKBACKS[1];
    end = nowMs * 1000;
    start = end - lb[2] * 1000;
  }
  p.set('start', String(Math.floor(start)));
  p.set('end', String(Math.ceil(end)));
  p.set('limit', String(Math.min(Math.max(parseInt(s.limit, 10) || DEFAULT_LIMIT, 1), MAX_LIMIT)));
  // When more traces match than the limit, take them from across the range, not only the newest.
  p.set('spread', 'true');
  return { params: p };
}

// Senders batch spans (OpenTelemetry SDKs export every 5 s by default), so a trace that
// ended moments ago may still be missing spans, and one whose spans lack their parent may
// get them yet.
export const SETTLE_MS = 10e3;
export const ARRIVING_MS = 60e3;

/**
 * traceStatus tells whether a search result (a trace summary) is whole, as far as can be
 * told at nowMs: null when it seems so; {kind: 'arriving', text, title} while its spans may
 * still be arriving; {kind: 'incomplete', text, title} when spans lack their parent for good.
 */
export function traceStatus(s, nowMs) {
  const age = nowMs - (s.start + s.duration) / 1000;
  const broken = Boolean(s.rootMissing || s.orphans > 0);
  if (age < SETTLE_MS || (broken && age < ARRIVING_MS)) {
    return {
      kind: 'arriving', text: 'arriving',
      title: `This trace ended ${Math.max(0, Math.round(age / 1000))} s ago; senders batch their spans, so some may still be on their way. Search again in a moment.`,
    };
  }
  if (!broken) return null;
  if (s.rootMissing) {
    return {
      kind: 'incomplete', text: 'no root span',
      title: 'Every span of this trace has a parent, so its root span is missing: it never arrived, or comes from a service that does not report to lookout.',
    };
  }
  return {
    kind: 'incomplete', text: `${plural(s.orphans, 'orphan span')}`,
    title: `${plural(s.orphans, 'span')} of this trace name a parent span that never arrived.`,
  };
}

const UNITS = { ns: 1e-3, us: 1, 'µs': 1, 'μs': 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/** parseDuration parses a Go-style duration such as 100ms, 1.5s or 1m30s into µs; null if invalid. */
export function parseDuration(text) {
  const t = String(text).trim().replace(/\s+/g, '');
  if (!t) return null;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  while (i < t.length) {
    re.lastIndex = i;
    const m = re.exec(t);
    if (!m) return null;
    total += parseFloat(m[1]) * UNITS[m[2]];
    i = re.lastIndex;
  }
  return total;
}

/** normalizeDuration removes spaces and spells microseconds "us", which every parser accepts. */
export function normalizeDuration(text) {
  return String(text).trim().replace(/\s+/g, '').replace(/[µμ]s/g, 'us');
}

/**
 * parseTags parses logfmt-ish "key=value" pairs separated by spaces, as in
 * Jaeger's search form: http.status_code=500 error=true msg="a b \"c\"".
 * Keys and values may be double-quoted, with \" and \\ escapes. It returns
 * {tags} (an object, string to string) or {tags: {}, error}.
 */
export function parseTags(text) {
  const tags = {};
  const s = String(text || '');
  let i = 0;
  const n = s.length;
  const isSpace = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const readToken = (stopAtEquals) => {
    if (s[i] === '"') {
      let out = '';
      i++;
      while (i < n && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < n) i++;
        out += s[i++];
      }
      if (i >= n) return { error: 'unterminated quote' };
      i++;
      return { value: out };
    }
    const from = i;
    while (i < n && !isSpace(s[i]) && !(stopAtEquals && s[i] === '=')) i++;
    return { value: s.slice(from, i) };
  };
  for (;;) {
    while (i < n && isSpace(s[i])) i++;
    if (i >= n) break;
    const from = i;
    const k = readToken(true);
    if (k.error) return { tags: {}, error: `Tags: ${k.error}` };
    if (s[i] !== '=' || !k.value) {
      while (i < n && !isSpace(s[i])) i++;
      return { tags: {}, error: `Tags: expected key=value, got "${s.slice(from, i)}"` };
    }
    i++;
    const v = readToken(false);
    if (v.error) return { tags: {}, error: `Tags: ${v.error}` };
    if (i < n && !isSpace(s[i])) return { tags: {}, error: `Tags: unexpected "${s[i]}" after the value of ${k.value}` };
    tags[k.value] = v.value;
  }
  return { tags };
}

/** formatTags writes an object of tags in the form parseTags reads. */
export function formatTags(obj) {
  if (!obj || typeof obj !== 'object') return '';
  return Object.entries(obj).map(([k, v]) => `${quote(k, true)}=${quote(String(v), false)}`).join(' ');
}

function quote(s, isKey) {
  if (s !== '' && !/[\s"\\]/.test(s) && !(isKey && s.includes('='))) return s;
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}
