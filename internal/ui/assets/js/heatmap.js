// The heatmap of a HEATMAP(column) calculation: time across, the column's
// value up, and the colour of a cell the number of events in it. Cells are
// rectangles on a time axis and a value axis (an ECharts custom series), so
// both axes get round ticks with units. Dragging a box over the chart selects
// the events of the cells it covers.
import { h } from './dom.js';
import { formatCount, formatMs, formatTimeRange, timeAxisLabel, columnFormat, niceTicks, plural } from './format.js';
import { tooltip, AXIS_LABEL, SPLIT_LINE } from './charts.js';

/** HEAT_COLORS run from a light blue that stands out on white (the fewest events) to a dark one. */
export const HEAT_COLORS = ['#9fc5f3', '#6fa7ec', '#468ae0', '#2a6fcc', '#1b56ab', '#103d81', '#0a2a5c'];

/**
 * heatScale maps event counts from 1 to max onto HEAT_COLORS, so that a lone event stands
 * out and the busiest cells still differ: a colour a count up to as many counts as colours
 * (a cell of two events is not as dark as the busiest of a busy chart), on a log scale from
 * 1 to max beyond. It returns color(count) and the legend: [{from, to, color}], the whole
 * counts each colour stands for, up to max.
 */
export function heatScale(max) {
  const n = HEAT_COLORS.length;
  const top = Math.max(1, Math.ceil(max));
  const frac = (c) => (c <= 1 ? 0 : top <= n ? (c - 1) / (n - 1) : Math.log(c) / Math.log(max));
  const step = (c) => Math.min(n - 1, Math.floor(frac(c) * (n - 1) + 0.5));
  // first(k) is the smallest whole count of step k or above (top + 1 when there is none).
  const first = (k) => {
    let lo = 1;
    let hi = top + 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (step(mid) >= k) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const legend = [];
  for (let k = 0; k < n; k++) {
    const from = first(k);
    const to = first(k + 1) - 1;
    if (from <= to) legend.push({ from, to, color: HEAT_COLORS[k] });
  }
  return { color: (c) => HEAT_COLORS[step(c)], legend };
}

/**
 * heatmapCells turns a query result's HEATMAP values under key into cells: the time
 * buckets of the result (start, step in ms, nx of them), the value buckets of the
 * histogram (lo, width, ny of them, hi the largest value) and, per non-empty cell,
 * [t0, t1, lower, upper, count] summed over the result's groups. Null when it is empty.
 */
export function heatmapCells(res, key) {
  const start = Date.parse(res.start);
  const step = res.granularity * 1000;
  const nx = Math.max(1, Math.round((Date.parse(res.end) - start) / step));
  let lo = Infinity;
  let hi = -Infinity;
  let width = 0;
  for (const r of res.results) {
    for (const b of (r.data[key] && r.data[key].buckets) || []) {
      lo = Math.min(lo, b.lower);
      hi = Math.max(hi, b.upper);
      if (b.upper > b.lower) width = width ? Math.min(width, b.upper - b.lower) : b.upper - b.lower;
    }
  }
  if (!Number.isFinite(lo)) return null;
  if (!(width > 0)) width = Math.max(1e-9, hi - lo) || 1;
  const ny = Math.max(1, Math.round((hi - lo) / width));
  const counts = new Map();
  for (const row of res.series) {
    const x = Math.round((Date.parse(row.time) - start) / step);
    for (const b of (row.data[key] && row.data[key].buckets) || []) {
      const y = Math.min(ny - 1, Math.round((b.lower - lo) / width));
      const k = x * ny + y;
      counts.set(k, (counts.get(k) || 0) + b.count);
    }
  }
  const cells = [];
  let max = 0;
  for (const [k, count] of counts) {
    const x = Math.floor(k / ny);
    const y = k % ny;
    cells.push([start + x * step, start + (x + 1) * step, lo + y * width, y === ny - 1 ? hi : lo + (y + 1) * width, count]);
    max = Math.max(max, count);
  }
  return { start, step, nx, lo, hi, width, ny, cells, max };
}

/**
 * drawHeatmap draws the heatmap of res's HEATMAP under key (of column, in ms when
 * ms is set) on chart, in box; onSelect({start, end, lower, upper, values}) receives the
 * time range (ms) and value range a dragged box covers, snapped to cells, and the value
 * range as text. It returns the
 * colour legend to show with the chart, or null when there is nothing to draw.
 */
export function drawHeatmap(chart, box, res, key, { ms, onSelect }) {
  const m = heatmapCells(res, key);
  if (!m) return null;
  const scale = heatScale(m.max);
  const fmt = ms ? formatMs : columnFormat([m.lo, m.hi, m.width]);
  const yMin0 = m.lo >= 0 && m.lo <= m.hi - m.lo ? 0 : m.lo;
  const ticks = niceTicks(m.hi - yMin0 || 1, 5);
  const yStep = ticks.length > 1 ? ticks[1] : 1;
  const yMin = Math.floor(yMin0 / yStep) * yStep;
  const yMax = Math.max(yMin + yStep, Math.ceil(m.hi / yStep) * yStep);
  const end = m.start + m.nx * m.step;
  box.dataset.cells = String(m.cells.length);

  chart.setOption({
    animation: false,
    grid: { left: 64, right: 16, top: 12, bottom: 28 },
    tooltip: tooltip('item', (p) => {
      const [t0, t1, lower, upper, count] = p.value;
      return h('div', { class: 'tt' },
        h('div', { class: 'tt-title' }, formatTimeRange(t0, t1)),
        h('div', null, `${fmt(lower)} – ${fmt(upper)}: `, h('b', null, plural(count, 'event'))));
    }),
    xAxis: { type: 'time', min: m.start, max: end, axisLabel: { ...AXIS_LABEL, hideOverlap: true, formatter: timeAxisLabel(end - m.start) }, splitLine: { show: false } },
    yAxis: { type: 'value', min: yMin, max: yMax, interval: yStep, axisLabel: { ...AXIS_LABEL, formatter: fmt }, splitLine: SPLIT_LINE },
    series: [{
      type: 'custom',
      data: m.cells,
      encode: { x: [0, 1], y: [2, 3] },
      renderItem: (params, api) => {
        const [x0, y0] = api.coord([api.value(0), api.value(2)]);
        const [x1, y1] = api.coord([api.value(1), api.value(3)]);
        return {
          type: 'rect',
          shape: { x: x0, y: y1, width: Math.max(1, x1 - x0), height: Math.max(1, y0 - y1) },
          style: { fill: scale.color(api.value(4)) },
          emphasis: { style: { stroke: '#1d2530', lineWidth: 1 } },
        };
      },
    }],
  });
  brush(chart, box, (a, b) => {
    const cell = (v, from, size, n) => Math.max(0, Math.min(n - 1, Math.floor((v - from) / size)));
    const x0 = cell(Math.min(a[0], b[0]), m.start, m.step, m.nx);
    const x1 = cell(Math.max(a[0], b[0]), m.start, m.step, m.nx);
    const y0 = cell(Math.min(a[1], b[1]), m.lo, m.width, m.ny);
    const y1 = cell(Math.max(a[1], b[1]), m.lo, m.width, m.ny);
    const lower = m.lo + y0 * m.width;
    const upper = y1 === m.ny - 1 ? m.hi : m.lo + (y1 + 1) * m.width; // the top band ends at the largest value
    onSelect({ start: m.start + x0 * m.step, end: m.start + (x1 + 1) * m.step, lower, upper, values: `${fmt(lower)} – ${fmt(upper)}` });
  });
  return h('div', { class: 'heat-legend', 'aria-label': 'Events per cell' },
    h('span', { class: 'muted' }, 'Events per cell'),
    scale.legend.map((s) => h('span', { class: 'heat-step' },
      h('span', { class: 'heat-swatch', style: { background: s.color } }),
      s.from === s.to ? formatCount(s.from) : `${formatCount(s.from)}–${formatCount(s.to)}`)));
}

/** brush lets the user drag a box over the chart; onSelect gets its corners in data coordinates. */
export function brush(chart, box, onSelect) {
  const rect = h('div', { class: 'brush-box', hidden: true });
  box.appendChild(rect);
  const local = (e) => {
    const r = box.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };
  let from = null;
  const draw = (to) => {
    const [x0, x1] = [Math.min(from[0], to[0]), Math.max(from[0], to[0])];
    const [y0, y1] = [Math.min(from[1], to[1]), Math.max(from[1], to[1])];
    Object.assign(rect.style, { left: `${x0}px`, top: `${y0}px`, width: `${x1 - x0}px`, height: `${y1 - y0}px` });
    rect.hidden = false;
  };
  const move = (e) => draw(local(e));
  const up = (e) => {
    document.removeEventListener('mousemove', move);
    document.removeEventListener('mouseup', up);
    const to = local(e);
    if (Math.abs(to[0] - from[0]) < 4 && Math.abs(to[1] - from[1]) < 4) {
      rect.hidden = true;
      return;
    }
    onSelect(chart.convertFromPixel({ gridIndex: 0 }, from), chart.convertFromPixel({ gridIndex: 0 }, to));
  };
  box.addEventListener('mousedown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    from = local(e);
    document.addEventListener('mousemove', move);
    document.addEventListener('mouseup', up);
  });
}
