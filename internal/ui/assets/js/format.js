// Formatting of durations and times. Pure functions, tested by jstest/.
// All times from the API are microseconds since the Unix epoch; all
// durations are microseconds.

/** formatDuration renders µs as a short human duration: 850µs, 12.3ms, 1.25s, 2m 5s, 1h 2m. */
export function formatDuration(us) {
  if (!Number.isFinite(us)) return '–';
  const neg = us < 0;
  const a = Math.abs(us);
  let s;
  if (a < 1) s = a === 0 ? '0µs' : a.toFixed(2) + 'µs';
  else if (a < 1000) s = trim(a, 0) + 'µs';
  else if (a < 1e6) s = sig(a / 1e3) + 'ms';
  else if (a < 60e6) s = sig(a / 1e6) + 's';
  else if (a < 3600e6) {
    const m = Math.floor(a / 60e6);
    const sec = Math.round((a - m * 60e6) / 1e6);
    s = sec === 60 ? `${m + 1}m` : sec ? `${m}m ${sec}s` : `${m}m`;
  } else {
    const hr = Math.floor(a / 3600e6);
    const m = Math.round((a - hr * 3600e6) / 60e6);
    s = m === 60 ? `${hr + 1}h` : m ? `${hr}h ${m}m` : `${hr}h`;
  }
  return neg ? '-' + s : s;
}

// sig keeps three significant digits without trailing zeros: 1.25, 12.3, 123.
function sig(x) {
  if (x >= 100) return trim(x, 0);
  if (x >= 10) return trim(x, 1);
  return trim(x, 2);
}

function trim(x, digits) {
  const r = x.toFixed(digits);
  return digits ? r.replace(/\.?0+$/, '') : r;
}

const pad2 = (n) => String(n).padStart(2, '0');
const pad3 = (n) => String(n).padStart(3, '0');

/** formatTime renders µs since epoch as local "YYYY-MM-DD HH:MM:SS.mmm". */
export function formatTime(us) {
  if (!Number.isFinite(us)) return '–';
  const d = new Date(us / 1000);
  return `${formatDate(d)} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`;
}

/** formatClock renders µs since epoch as local "HH:MM:SS.mmm". */
export function formatClock(us) {
  const d = new Date(us / 1000);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`;
}

function formatDate(d) {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** formatDateTime renders ms since epoch as local "YYYY-MM-DD HH:MM:SS". */
export function formatDateTime(ms) {
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  return `${formatDate(d)} ${formatTimeOfDay(ms)}`;
}

/** parseDateTime reads local "YYYY-MM-DD HH:MM[:SS]" (as formatDateTime writes it) into ms since epoch; NaN if it is not a time. */
export function parseDateTime(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(text).trim());
  if (!m) return NaN;
  const [y, mo, d, hr, mi, se] = m.slice(1).map((x) => Number(x || 0));
  const t = new Date(y, mo - 1, d, hr, mi, se);
  // Date rolls 2024-02-30 over to March: refuse what it had to move.
  return t.getMonth() === mo - 1 && t.getDate() === d && t.getHours() === hr && t.getMinutes() === mi && t.getSeconds() === se ? t.getTime() : NaN;
}

/** formatTimeOfDay renders ms since epoch as local "HH:MM:SS", or "HH:MM" without seconds. */
export function formatTimeOfDay(ms, seconds = true) {
  const d = new Date(ms);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return seconds ? `${hm}:${pad2(d.getSeconds())}` : hm;
}

/**
 * timeAxisLabel returns the label formatter (ms since epoch -> text) of a time axis
 * covering spanMs: HH:MM:SS up to 10 minutes, HH:MM up to two days, MM-DD HH:MM beyond.
 */
export function timeAxisLabel(spanMs) {
  if (spanMs <= 10 * 60e3) return (ms) => formatTimeOfDay(ms);
  if (spanMs <= 2 * 86400e3) return (ms) => formatTimeOfDay(ms, false);
  return (ms) => formatDateTime(ms).slice(5, 16);
}

/** formatTimeRange renders [startMs, endMs] as "HH:MM:SS – HH:MM:SS", with the date when they are on different days. */
export function formatTimeRange(startMs, endMs) {
  const a = formatDateTime(startMs);
  const b = formatDateTime(endMs);
  return a.slice(0, 10) === b.slice(0, 10) ? `${a.slice(11)} – ${b.slice(11)}` : `${a} – ${b}`;
}

/** timeZoneLabel names the browser's time zone, in which the UI shows every time: "Europe/Berlin (UTC+01:00)". */
export function timeZoneLabel(date = new Date()) {
  const off = -date.getTimezoneOffset();
  const a = Math.abs(off);
  const utc = off === 0 ? 'UTC' : `UTC${off < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
  let zone = '';
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    zone = '';
  }
  return zone && !/^(Etc\/)?UTC$/.test(zone) ? `${zone} (${utc})` : utc;
}

/** formatRelative renders how long ago µs since epoch was, relative to nowMs (ms since epoch). */
export function formatRelative(us, nowMs = Date.now()) {
  const diff = nowMs - us / 1000; // ms
  if (!Number.isFinite(diff)) return '';
  const future = diff < 0;
  const a = Math.abs(diff);
  let s;
  if (a < 5e3) return 'just now';
  if (a < 60e3) s = `${Math.floor(a / 1e3)}s`;
  else if (a < 3600e3) s = `${Math.floor(a / 60e3)}m`;
  else if (a < 86400e3) s = `${Math.floor(a / 3600e3)}h`;
  else s = `${Math.floor(a / 86400e3)}d`;
  return future ? `in ${s}` : `${s} ago`;
}

/**
 * niceTicks returns evenly spaced tick values in [0, span] at a "nice" step
 * (1, 2 or 5 times a power of ten), about `target` of them.
 */
export function niceTicks(span, target = 5) {
  if (!(span > 0)) return [0];
  const raw = span / target;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / pow;
  const step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * pow;
  const ticks = [];
  for (let k = 0; k * step <= span * (1 + 1e-9); k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** plural renders "1 span", "3 spans", "1,200 spans". */
export function plural(n, one, many = one + 's') {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/**
 * formatCount renders a count, rounded, with thousands separators. Without Intl: its first
 * use costs milliseconds, and the trace page shows counts before its first paint.
 */
export function formatCount(n) {
  const r = Math.round(Number(n) || 0);
  const digits = String(Math.abs(r)).replace(/\B(?=(\d{3})+$)/g, ',');
  return r < 0 ? `-${digits}` : digits;
}

/** formatRate renders n events over seconds as a rate a second: 0.0/s, 0.05/s, 2.5/s, 1,200/s. */
export function formatRate(n, seconds) {
  const r = seconds > 0 ? (Number(n) || 0) / seconds : 0;
  if (r >= 10) return `${formatCount(r)}/s`;
  return `${r.toFixed(r >= 1 || r === 0 ? 1 : 2)}/s`;
}

/** formatMs renders a duration in milliseconds, for axes: 0, 250ms, 1.5s. */
export function formatMs(ms) {
  return ms === 0 ? '0' : formatDuration(ms * 1000);
}

/**
 * columnFormat returns the formatter of a table column (or a set of labels) holding
 * values, so that they line up: every number gets the same decimals (enough for two
 * significant digits of the smallest non-zero value, at most two; none when all are
 * whole) and thousands separators. With ms, values are durations in milliseconds and
 * get a unit: ms, or s when every non-zero value is a second or more. Values that are
 * not numbers are shown as they are.
 */
export function columnFormat(values, { ms = false } = {}) {
  const nums = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  const nonZero = nums.filter((v) => v !== 0).map(Math.abs);
  const seconds = ms && nonZero.length > 0 && Math.min(...nonZero) >= 1000;
  const scale = seconds ? 1e-3 : 1;
  const unit = !ms ? '' : seconds ? 's' : 'ms';
  let decimals = 0;
  if (!nums.every((v) => Number.isInteger(v * scale)) && nonZero.length) {
    const smallest = Math.min(...nonZero) * scale;
    decimals = Math.min(2, Math.max(0, 1 - Math.floor(Math.log10(smallest))));
  }
  const opts = { minimumFractionDigits: decimals, maximumFractionDigits: decimals };
  return (v) => {
    if (typeof v !== 'number') return v == null ? '' : String(v);
    if (!Number.isFinite(v)) return String(v);
    return (v * scale).toLocaleString('en-US', opts) + unit;
  };
}
