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

/** plural renders "1 span", "3 spans". */
export function plural(n, one, many = one + 's') {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** formatCount renders an integer with thousands separators. */
export function formatCount(n) {
  return Number(n || 0).toLocaleString('en-US');
}
