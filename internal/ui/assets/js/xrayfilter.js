// The X-Ray page's response-time distribution: how the response times of the traces a
// filter found spread, and the filter expression that narrows the search to a range of them.
// Pure, tested by jstest/.
import { niceTicks } from './format.js';

/**
 * responseTimeBins counts values (seconds) in bins of a round width from 0, about target of
 * them: {step, counts, overflow, max}, bin k holding [k·step, (k+1)·step). So that a few slow
 * outliers do not squeeze the rest into one bar, the bins end at the 95th percentile when
 * the largest value is well beyond it, and the last bin (overflow) holds everything from
 * its start to max.
 */
export function responseTimeBins(values, target = 20) {
  const sorted = [...values].sort((a, b) => a - b);
  const max = sorted.length ? Math.max(0, sorted[sorted.length - 1]) : 0;
  const p95 = sorted.length ? sorted[Math.ceil(sorted.length * 0.95) - 1] : 0;
  const overflow = max > 1.5 * p95 && p95 > 0;
  const top = overflow ? p95 : max;
  const ticks = niceTicks(top || 1e-3, target);
  const step = ticks.length > 1 ? ticks[1] : top || 1e-3;
  const bin = (v) => Math.floor(v / step + 1e-9); // 0.3 / 0.05 is 5.999…
  const counts = new Array(bin(top) + 1 + (overflow ? 1 : 0)).fill(0);
  for (const v of values) counts[Math.min(counts.length - 1, Math.max(0, bin(v)))]++;
  return { step, counts, overflow, max };
}

/** binRange is the range of response times, [lo, hi] seconds, that bins i to j (i ≤ j) cover. */
export function binRange({ step, counts, overflow, max }, i, j) {
  return [i * step, overflow && j === counts.length - 1 ? max : (j + 1) * step];
}

// RANGE is the clause narrowToResponseTime writes, at the start or after an AND.
const RANGE = /(^|\s+AND\s+)responsetime\s*>=\s*[\d.]+\s+AND\s+responsetime\s*<=\s*[\d.]+/i;

// seconds writes a bound to the millisecond, rounded outwards so that the range keeps its ends.
const seconds = (s, round) => String(round(s * 1000 - (round === Math.ceil ? 1e-6 : -1e-6)) / 1000);

/**
 * narrowToResponseTime returns expr narrowed to traces whose response time is within
 * [lo, hi] seconds: a range it wrote before is replaced, else the range is ANDed to expr
 * (to all of it: an expression with an OR is put in brackets).
 */
export function narrowToResponseTime(expr, lo, hi) {
  const clause = `responsetime >= ${seconds(lo, Math.floor)} AND responsetime <= ${seconds(hi, Math.ceil)}`;
  const e = expr.trim();
  if (RANGE.test(e)) return e.replace(RANGE, (_, and) => `${and}${clause}`);
  if (!e) return clause;
  return /\bOR\b/i.test(e) ? `(${e}) AND ${clause}` : `${e} AND ${clause}`;
}
