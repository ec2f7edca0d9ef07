import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTags, formatTags, parseDuration, apiParams, stateFromParams, paramsFromState, defaultState, traceStatus, DEFAULT_LIMIT } from '../assets/js/query.js';
import { formatDuration, formatRelative, niceTicks } from '../assets/js/format.js';

test('parseTags', () => {
  assert.deepEqual(parseTags('http.status_code=500 error=true').tags, { 'http.status_code': '500', error: 'true' });
  assert.deepEqual(parseTags('  msg="a b \\"c\\""  "odd key"=x empty=').tags, { msg: 'a b "c"', 'odd key': 'x', empty: '' });
  assert.deepEqual(parseTags('').tags, {});
  assert.match(parseTags('oops').error, /expected key=value, got "oops"/);
  assert.match(parseTags('a="b').error, /unterminated quote/);
  assert.match(parseTags('a="b"c').error, /unexpected/);
  assert.deepEqual(parseTags('sql=a=b').tags, { sql: 'a=b' });
});

test('formatTags round-trips', () => {
  const tags = { a: '1', 'b c': 'x y', q: 'say "hi"', e: '', 'k=v': 'z' };
  assert.deepEqual(parseTags(formatTags(tags)).tags, tags);
});

test('parseDuration', () => {
  assert.equal(parseDuration('100ms'), 100e3);
  assert.equal(parseDuration('1.5s'), 1.5e6);
  assert.equal(parseDuration('1m30s'), 90e6);
  assert.equal(parseDuration('250µs'), 250);
  assert.equal(parseDuration('250 us'), 250);
  assert.equal(parseDuration('100'), null);
  assert.equal(parseDuration('ms'), null);
  assert.equal(parseDuration('1x'), null);
});

test('apiParams', () => {
  const s = { ...defaultState(), service: 'api', operation: 'GET /', tags: 'error=true', minDuration: '100ms', maxDuration: '2 s', lookback: '15m', limit: 50 };
  const { params, error } = apiParams(s, 1_700_000_000_000);
  assert.equal(error, undefined);
  assert.equal(params.get('service'), 'api');
  assert.equal(params.get('operation'), 'GET /');
  assert.equal(params.get('tags'), '{"error":"true"}');
  assert.equal(params.get('minDuration'), '100ms');
  assert.equal(params.get('maxDuration'), '2s');
  assert.equal(params.get('end'), String(1_700_000_000_000_000));
  assert.equal(params.get('start'), String(1_700_000_000_000_000 - 15 * 60e6));
  assert.equal(params.get('limit'), '50');
  assert.equal(apiParams({ ...s, minDuration: '5' }).field, 'minDuration');
  assert.equal(apiParams({ ...s, minDuration: '3s' }).field, 'minDuration');
  assert.equal(apiParams({ ...s, tags: 'x' }).field, 'tags');
  assert.equal(apiParams({ ...s, lookback: 'custom', start: '200', end: '100' }).field, 'start');
  assert.equal(apiParams({ ...s, lookback: 'custom', start: '100', end: '200' }).params.get('start'), '100');
  assert.equal(apiParams({ ...s, service: '' }).params.has('operation'), false);
});

test('URL state round-trips and reads Jaeger JSON tags', () => {
  const s = { ...defaultState(), service: 'a b', tags: 'x="1 2"', lookback: 'custom', start: '5', end: '9', sort: 'longest', limit: 40 };
  assert.deepEqual(stateFromParams(paramsFromState(s)), s);
  assert.equal(stateFromParams(new URLSearchParams('tags={"error":"true"}')).tags, 'error=true');
  assert.equal(stateFromParams(new URLSearchParams('limit=999999')).limit, 1500);
  assert.equal(stateFromParams(new URLSearchParams('sort=bogus')).sort, 'recent');
});

test('formatDuration', () => {
  const cases = [[0, '0µs'], [850, '850µs'], [1000, '1ms'], [12345, '12.3ms'], [123456, '123ms'], [1.25e6, '1.25s'], [125e6, '2m 5s'], [3600e6 + 120e6, '1h 2m'], [59.9e6, '59.9s']];
  for (const [us, want] of cases) assert.equal(formatDuration(us), want, `${us}`);
});

test('formatRelative and niceTicks', () => {
  const now = 1_700_000_000_000;
  assert.equal(formatRelative(now * 1000, now), 'just now');
  assert.equal(formatRelative((now - 90e3) * 1000, now), '1m ago');
  assert.equal(formatRelative((now - 3 * 86400e3) * 1000, now), '3d ago');
  assert.deepEqual(niceTicks(100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(0.9, 5), [0, 0.2, 0.4, 0.6, 0.8]);
});

test('searches spread over their range and ask for enough traces to fill it', () => {
  const { params } = apiParams(defaultState(), 1_700_000_000_000);
  assert.equal(params.get('spread'), 'true');
  assert.equal(params.get('limit'), String(DEFAULT_LIMIT));
  assert.ok(DEFAULT_LIMIT >= 50);
});

test('traceStatus marks traces still arriving and traces missing spans', () => {
  const now = 1_700_000_000_000;
  const ended = (agoMs, extra = {}) => ({ start: (now - agoMs - 100) * 1000, duration: 100e3, ...extra });
  assert.equal(traceStatus(ended(60e3), now), null, 'whole and a minute old');
  assert.equal(traceStatus(ended(2e3), now).kind, 'arriving', 'ended two seconds ago: spans may be on their way');
  assert.equal(traceStatus(ended(30e3, { orphans: 2 }), now).kind, 'arriving', 'orphans, but recent');
  const old = traceStatus(ended(120e3, { orphans: 2 }), now);
  assert.deepEqual([old.kind, old.text], ['incomplete', '2 orphan spans']);
  const rootless = traceStatus(ended(120e3, { rootMissing: true, orphans: 1 }), now);
  assert.deepEqual([rootless.kind, rootless.text], ['incomplete', 'no root span']);
  assert.match(rootless.title, /root span is missing/);
});
