import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseCalc, calcKey, parseFilter, formatFilter, parseOrder, formatOrder, parseHaving, formatHaving,
  toParams, fromParams, normalize, groupLabel, groupFilters, ParseError, fitTimeRange, rangeLabel, calcIsDuration,
} from '../assets/js/hcquery.js';

test('parseCalc', () => {
  assert.deepEqual(parseCalc('P99(duration_ms)'), { op: 'P99', column: 'duration_ms' });
  assert.deepEqual(parseCalc(' count '), { op: 'COUNT' });
  assert.deepEqual(parseCalc('heatmap( duration_ms )'), { op: 'HEATMAP', column: 'duration_ms' });
  assert.throws(() => parseCalc('P42(x)'), ParseError);
  assert.throws(() => parseCalc('AVG'), /needs a column/);
  assert.throws(() => parseCalc('COUNT(x)'), /takes no column/);
  assert.equal(calcKey({ op: 'P99', column: 'duration_ms' }), 'P99(duration_ms)');
  assert.equal(calcKey({ op: 'COUNT' }), 'COUNT');
});

test('parseFilter reads every operator and types values', () => {
  assert.deepEqual(parseFilter('http.status_code >= 500'), { column: 'http.status_code', op: '>=', value: 500 });
  assert.deepEqual(parseFilter('http.status_code>=500'), { column: 'http.status_code', op: '>=', value: 500 });
  assert.deepEqual(parseFilter('name = GET /api'), { column: 'name', op: '=', value: 'GET /api' });
  assert.deepEqual(parseFilter('error = true'), { column: 'error', op: '=', value: true });
  assert.deepEqual(parseFilter('code = "500"'), { column: 'code', op: '=', value: '500' });
  assert.deepEqual(parseFilter('a != b'), { column: 'a', op: '!=', value: 'b' });
  assert.deepEqual(parseFilter('db.system exists'), { column: 'db.system', op: 'exists' });
  assert.deepEqual(parseFilter('db.system does-not-exist'), { column: 'db.system', op: 'does-not-exist' });
  assert.deepEqual(parseFilter('name does-not-start-with GET'), { column: 'name', op: 'does-not-start-with', value: 'GET' });
  assert.deepEqual(parseFilter('name starts-with GET'), { column: 'name', op: 'starts-with', value: 'GET' });
  assert.deepEqual(parseFilter('http.route in /a, /b'), { column: 'http.route', op: 'in', value: ['/a', '/b'] });
  assert.deepEqual(parseFilter('code not-in 1,2'), { column: 'code', op: 'not-in', value: [1, 2] });
  assert.deepEqual(parseFilter('x < -1.5'), { column: 'x', op: '<', value: -1.5 });
  assert.throws(() => parseFilter('just words'), ParseError);
  assert.throws(() => parseFilter('a ='), /needs a value/);
  assert.throws(() => parseFilter('a exists b'), /takes no value/);
});

test('formatFilter round-trips', () => {
  for (const f of [
    { column: 'a', op: '=', value: 'x y' }, { column: 'a', op: '=', value: '500' }, { column: 'a', op: '=', value: 'true' },
    { column: 'a', op: '>', value: 3 }, { column: 'a', op: 'exists' }, { column: 'a', op: 'in', value: ['p', 2] },
    { column: 'a', op: 'contains', value: ' padded ' },
  ]) {
    assert.deepEqual(parseFilter(formatFilter(f)), f);
  }
});

test('orders and havings', () => {
  assert.deepEqual(parseOrder('COUNT desc'), { op: 'COUNT', order: 'descending' });
  assert.deepEqual(parseOrder('P99(duration_ms)'), { op: 'P99', column: 'duration_ms' });
  assert.deepEqual(parseOrder('http.route asc'), { column: 'http.route' });
  assert.equal(formatOrder({ op: 'AVG', column: 'x', order: 'descending' }), 'AVG(x) desc');
  assert.deepEqual(parseHaving('COUNT > 10'), { calculate_op: 'COUNT', op: '>', value: 10 });
  assert.deepEqual(parseHaving('P99(duration_ms) >= 2.5'), { calculate_op: 'P99', column: 'duration_ms', op: '>=', value: 2.5 });
  assert.equal(formatHaving({ calculate_op: 'P99', column: 'duration_ms', op: '>=', value: 2.5 }), 'P99(duration_ms) >= 2.5');
  assert.throws(() => parseHaving('COUNT > lots'), /number/);
});

test('URL state', () => {
  const q = { calculations: [{ op: 'COUNT' }], filters: [], breakdowns: ['service.name'], time_range: 3600, limit: 0 };
  const p = toParams('shop', q);
  const back = fromParams(new URLSearchParams(String(p)));
  assert.equal(back.dataset, 'shop');
  assert.deepEqual(back.query, normalize(q));
  assert.deepEqual(fromParams(new URLSearchParams('q=%7Bbroken')).query.calculations[0], { op: 'COUNT' });
});

test('groups', () => {
  assert.equal(groupLabel(['a', 'b'], { a: 1, b: null }), '1, (none)');
  assert.deepEqual(groupFilters(['a', 'b', 'root.c'], { a: 1, b: null, 'root.c': 'x' }),
    [{ column: 'a', op: '=', value: 1 }, { column: 'b', op: 'does-not-exist' }]);
});

test('durations are the calculations of *_ms fields that are not counts', () => {
  assert.equal(calcIsDuration({ op: 'P99', column: 'duration_ms' }), true);
  assert.equal(calcIsDuration({ op: 'HEATMAP', column: 'db.wait_ms' }), true);
  assert.equal(calcIsDuration({ op: 'COUNT_DISTINCT', column: 'duration_ms' }), false);
  assert.equal(calcIsDuration({ op: 'COUNT' }), false);
  assert.equal(calcIsDuration({ op: 'AVG', column: 'http.status_code' }), false);
});

test('a default range mostly without events shrinks to the events', () => {
  const end = Date.UTC(2026, 0, 1, 12);
  const res = (firstAgoS, granularity = 30) => ({
    end: new Date(end).toISOString(), granularity,
    series: [firstAgoS, firstAgoS / 2].map((s) => ({ time: new Date(end - s * 1000).toISOString(), data: {} })),
  });
  // Three minutes of events in the last hour: the last five minutes (the least offered).
  assert.deepEqual(fitTimeRange({ time_range: 3600 }, res(180)), { time_range: 300, since: end - 180e3 });
  // Ten minutes and a 30 s bucket: eleven minutes.
  assert.equal(fitTimeRange({ time_range: 3600 }, res(600)).time_range, 660);
  // Half the range or more holds events: keep it.
  assert.equal(fitTimeRange({ time_range: 3600 }, res(1800)), null);
  assert.equal(fitTimeRange({ time_range: 3600 }, { ...res(0), series: [] }), null, 'no events: nothing to fit');
  assert.equal(fitTimeRange({ start_time: 1, end_time: 2 }, res(180)), null, 'an absolute range is kept');
  assert.equal(rangeLabel(660), 'Last 11 minutes');
  assert.equal(rangeLabel(3600), 'Last hour');
  assert.equal(rangeLabel(7200 * 2), 'Last 4 hours');
  assert.equal(rangeLabel(60), 'Last minute');
});
