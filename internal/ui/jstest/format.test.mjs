import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnFormat, formatDateTime, parseDateTime, timeAxisLabel, formatTimeRange, timeZoneLabel, formatMs, formatRate } from '../assets/js/format.js';

test('columnFormat gives a column one precision, and durations a unit', () => {
  const col = (values, opts) => values.map(columnFormat(values, opts));
  assert.deepEqual(col([444.69, 7], { ms: true }), ['444.7ms', '7.0ms']);
  assert.deepEqual(col([2500, 1200], { ms: true }), ['2.5s', '1.2s']);
  assert.deepEqual(col([2000, 1000], { ms: true }), ['2s', '1s']);
  assert.deepEqual(col([0.35, 900], { ms: true }), ['0.35ms', '900.00ms']);
  assert.deepEqual(col([0, 12.5, 1500], { ms: true }), ['0ms', '13ms', '1,500ms'], 'two significant digits of the smallest');
  assert.deepEqual(col([1234, 7, 0]), ['1,234', '7', '0']);
  assert.deepEqual(col([3.14159, 0.5]), ['3.14', '0.50']);
  assert.deepEqual(col([null, 'x', 2]), ['', 'x', '2']);
});

test('formatRate gives a count over seconds a second', () => {
  assert.deepEqual([[150, 60], [15, 60], [3, 60], [0, 60], [72_000, 60], [5, 0]].map(([n, s]) => formatRate(n, s)),
    ['2.5/s', '0.25/s', '0.05/s', '0.0/s', '1,200/s', '0.0/s']);
});

test('formatMs labels axes', () => {
  assert.deepEqual([0, 250, 1500, 0.5].map(formatMs), ['0', '250ms', '1.5s', '500µs']);
});

test('dates and times are 24-hour and ISO-like, and read back', () => {
  const t = new Date(2026, 0, 5, 14, 3, 9).getTime();
  assert.equal(formatDateTime(t), '2026-01-05 14:03:09');
  assert.equal(parseDateTime('2026-01-05 14:03:09'), t);
  assert.equal(parseDateTime('2026-01-05T14:03'), t - 9000);
  assert.ok(Number.isNaN(parseDateTime('2026-02-30 10:00:00')), 'no 30 February');
  assert.ok(Number.isNaN(parseDateTime('01/05/2026 2:03 PM')));
  assert.equal(timeAxisLabel(5 * 60e3)(t), '14:03:09');
  assert.equal(timeAxisLabel(3600e3)(t), '14:03');
  assert.equal(timeAxisLabel(7 * 86400e3)(t), '01-05 14:03');
  assert.equal(formatTimeRange(t, t + 60e3), '14:03:09 – 14:04:09');
  assert.equal(formatTimeRange(t, t + 86400e3), '2026-01-05 14:03:09 – 2026-01-06 14:03:09');
});

test('timeZoneLabel names the offset', () => {
  assert.match(timeZoneLabel({ getTimezoneOffset: () => -60 }), /UTC\+01:00/);
  assert.match(timeZoneLabel({ getTimezoneOffset: () => 330 }), /UTC-05:30/);
  assert.match(timeZoneLabel({ getTimezoneOffset: () => 0 }), /UTC/);
});
