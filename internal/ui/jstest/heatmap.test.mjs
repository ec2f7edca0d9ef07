import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heatScale, heatmapCells, HEAT_COLORS } from '../assets/js/heatmap.js';

// contrast is the WCAG contrast ratio of two #rrggbb colours.
function contrast(a, b) {
  const lum = (hex) => {
    const [r, g, b2] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b2;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

test('a cell of one event stands out on white', () => {
  assert.ok(contrast(HEAT_COLORS[0], '#ffffff') >= 1.7, `lowest colour ${HEAT_COLORS[0]}: contrast ${contrast(HEAT_COLORS[0], '#ffffff').toFixed(2)}`);
  for (let i = 1; i < HEAT_COLORS.length; i++) {
    assert.ok(contrast(HEAT_COLORS[i], '#ffffff') > contrast(HEAT_COLORS[i - 1], '#ffffff'), 'each colour darker than the last');
  }
});

test('heatScale: every count has one colour, the legend covers 1..max', () => {
  for (const max of [1, 2, 3, 7, 8, 50, 1000, 123456]) {
    const { color, legend } = heatScale(max);
    assert.equal(legend[0].from, 1, `max ${max}`);
    assert.equal(legend[legend.length - 1].to, max, `max ${max}`);
    assert.equal(color(1), HEAT_COLORS[0]);
    if (max >= HEAT_COLORS.length) assert.equal(color(max), HEAT_COLORS[HEAT_COLORS.length - 1], `max ${max}: the busiest cell is darkest`);
    else assert.equal(color(max), HEAT_COLORS[max - 1], `max ${max}: a colour a count`);
    for (let k = 1; k < legend.length; k++) assert.equal(legend[k].from, legend[k - 1].to + 1, `max ${max}: steps meet`);
    for (const s of legend) {
      assert.equal(color(s.from), s.color);
      assert.equal(color(s.to), s.color);
    }
  }
});

test('heatmapCells sums the groups per time and value bucket', () => {
  const t0 = Date.UTC(2026, 0, 1, 12);
  const iso = (s) => new Date(t0 + s * 1000).toISOString();
  const buckets = (counts) => ({ buckets: counts.map(([lower, count]) => ({ lower, upper: lower + 10, count })) });
  const res = {
    start: iso(0), end: iso(120), granularity: 60,
    results: [{ data: { H: buckets([[0, 3], [20, 1]]) } }, { data: { H: buckets([[0, 2]]) } }],
    series: [
      { time: iso(0), data: { H: buckets([[0, 2], [20, 1]]) } },
      { time: iso(0), data: { H: buckets([[0, 1]]) } },
      { time: iso(60), data: { H: buckets([[0, 2]]) } },
    ],
  };
  const m = heatmapCells(res, 'H');
  assert.deepEqual([m.nx, m.ny, m.lo, m.hi, m.width, m.max], [2, 3, 0, 30, 10, 3]);
  const cells = m.cells.map((c) => [(c[0] - t0) / 1000, (c[1] - t0) / 1000, c[2], c[3], c[4]]).sort((a, b) => a[0] - b[0] || a[2] - b[2]);
  assert.deepEqual(cells, [[0, 60, 0, 10, 3], [0, 60, 20, 30, 1], [60, 120, 0, 10, 2]]);
  assert.equal(heatmapCells({ ...res, results: [{ data: {} }] }, 'H'), null);
});
