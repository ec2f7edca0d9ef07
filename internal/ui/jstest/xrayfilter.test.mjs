// Unit tests of the X-Ray page's response-time distribution and the filter it narrows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { responseTimeBins, binRange, narrowToResponseTime } from '../assets/js/xrayfilter.js';

test('response times fall in round bins from 0 up to the largest', () => {
  const { step, counts } = responseTimeBins([0.012, 0.3, 0.31, 0.05, 0.299], 10);
  assert.equal(step, 0.05);
  assert.deepEqual(counts, [1, 1, 0, 0, 0, 1, 2]);
  assert.equal(counts.reduce((a, b) => a + b), 5);
  assert.deepEqual(responseTimeBins([0, 0]).counts, [2]);
  const bins = responseTimeBins([0.012, 0.3, 0.31, 0.05, 0.299], 10);
  assert.equal(bins.overflow, false);
  assert.deepEqual(binRange(bins, 1, 2), [0.05, 0.15000000000000002]);
});

test('slow outliers share a last bin, so that the rest keep theirs', () => {
  // 40 traces from 1 to 40 ms, and one of 5 s.
  const values = [...Array.from({ length: 40 }, (_, k) => (k + 1) / 1000), 5];
  const bins = responseTimeBins(values, 10);
  assert.equal(bins.overflow, true);
  assert.equal(bins.step, 0.005);
  assert.deepEqual(bins.counts, [4, 5, 5, 5, 5, 5, 5, 5, 2], 'to the 95th percentile (39 ms), then 40 ms and 5 s together');
  assert.equal(bins.counts.reduce((a, b) => a + b), values.length);
  assert.deepEqual(binRange(bins, 2, 8), [0.01, 5]);
});

test('a range is ANDed to the expression, replacing the one written before', () => {
  assert.equal(narrowToResponseTime('', 0.1, 0.3), 'responsetime >= 0.1 AND responsetime <= 0.3');
  const once = narrowToResponseTime('service("api") { fault }', 0.1, 0.30000000000000004);
  assert.equal(once, 'service("api") { fault } AND responsetime >= 0.1 AND responsetime <= 0.3');
  assert.equal(narrowToResponseTime(once, 0.2, 0.25), 'service("api") { fault } AND responsetime >= 0.2 AND responsetime <= 0.25');
  assert.equal(narrowToResponseTime('responsetime >= 1 AND responsetime <= 2', 0.0004, 0.0011), 'responsetime >= 0 AND responsetime <= 0.002');
});

test('an expression with an OR is bracketed, so the range narrows all of it', () => {
  const e = narrowToResponseTime('service("a") OR service("b")', 1, 2);
  assert.equal(e, '(service("a") OR service("b")) AND responsetime >= 1 AND responsetime <= 2');
  assert.equal(narrowToResponseTime(e, 3, 4), '(service("a") OR service("b")) AND responsetime >= 3 AND responsetime <= 4');
});
