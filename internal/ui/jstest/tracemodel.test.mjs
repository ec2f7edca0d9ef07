// Unit tests for the pure modules of the UI: node --test internal/ui/jstest/
// (TestJSUnit in ui_test.go runs them when node is installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTraceModel, visibleRows, findSpans, descendantCount, isErrorSpan } from '../assets/js/tracemodel.js';

const T = 'abc';
function span(id, start, dur, parent, extra = {}) {
  return {
    traceID: T, spanID: id, operationName: 'op-' + id, startTime: start, duration: dur,
    references: parent ? [{ refType: 'CHILD_OF', traceID: T, spanID: parent }] : [],
    tags: [], logs: [], processID: 'p1', ...extra,
  };
}
const procs = { p1: { serviceName: 'api', tags: [{ key: 'host.name', type: 'string', value: 'h1' }] } };
const ids = (m, list) => Array.from(list, (i) => m.spans[i].spanID);

test('tree order, depth and children in start order', () => {
  const m = buildTraceModel({ traceID: T, processes: procs, spans: [
    span('c2', 30, 5, 'r'), span('r', 0, 100, null), span('c1', 10, 5, 'r'), span('g', 12, 1, 'c1'),
  ] });
  assert.deepEqual(ids(m, m.order), ['r', 'c1', 'g', 'c2']);
  assert.deepEqual(Array.from(m.order, (i) => m.depth[i]), [0, 1, 2, 1]);
  assert.equal(m.spans[m.root].spanID, 'r');
  assert.equal(m.duration, 100);
  assert.equal(descendantCount(m, m.root), 3);
});

test('orphans and FOLLOWS_FROM', () => {
  const m = buildTraceModel({ traceID: T, processes: procs, spans: [
    span('r', 0, 100, null),
    span('o', 5, 5, 'missing'),
    span('f', 50, 5, null, { references: [{ refType: 'FOLLOWS_FROM', traceID: T, spanID: 'r' }] }),
    span('x', 60, 5, null, { references: [{ refType: 'CHILD_OF', traceID: 'other', spanID: 'r' }] }),
  ] });
  assert.deepEqual(ids(m, m.roots), ['r', 'o', 'x']);
  assert.equal(m.orphans, 1);
  assert.equal(m.missingParent[m.byID.get('o')], 'missing');
  assert.equal(m.parent[m.byID.get('f')], m.byID.get('r'));
});

test('reference cycles are broken, every span appears once', () => {
  const m = buildTraceModel({ traceID: T, processes: procs, spans: [
    span('a', 0, 10, 'b'), span('b', 1, 10, 'a'), span('c', 2, 1, 'c'), span('d', 3, 1, 'b'),
  ] });
  assert.equal(m.cycles, 1);
  assert.deepEqual(ids(m, m.order).sort(), ['a', 'b', 'c', 'd']);
  assert.deepEqual(ids(m, m.roots), ['a', 'c']);
});

test('collapse hides exactly the subtree', () => {
  const m = buildTraceModel({ traceID: T, processes: procs, spans: [
    span('r', 0, 100, null), span('a', 1, 10, 'r'), span('a1', 2, 1, 'a'), span('a2', 3, 1, 'a'), span('b', 20, 1, 'r'),
  ] });
  const collapsed = new Uint8Array(m.n);
  assert.equal(visibleRows(m, collapsed).length, 5);
  collapsed[m.byID.get('a')] = 1;
  assert.deepEqual(ids(m, visibleRows(m, collapsed)), ['r', 'a', 'b']);
  collapsed[m.byID.get('r')] = 1;
  assert.deepEqual(ids(m, visibleRows(m, collapsed)), ['r']);
});

test('errors, services and find', () => {
  const m = buildTraceModel({ traceID: T, processes: { ...procs, p2: { serviceName: 'db', tags: [] } }, spans: [
    span('r', 0, 100, null, { tags: [{ key: 'http.status_code', type: 'int64', value: 500 }, { key: 'error', type: 'bool', value: true }] }),
    span('q', 5, 10, 'r', { processID: 'p2', tags: [{ key: 'db.statement', type: 'string', value: 'SELECT 1' }] }),
  ] });
  assert.equal(m.errorCount, 1);
  assert.deepEqual(Array.from(m.subtreeErrors), [1, 0]);
  assert.deepEqual(m.servicesByCount.map((s) => [s.name, s.spanCount, s.errorCount]), [['api', 1, 1], ['db', 1, 0]]);
  assert.deepEqual(ids(m, findSpans(m, 'select')), ['q']);
  assert.deepEqual(ids(m, findSpans(m, 'http.status_code=500')), ['r']);
  assert.deepEqual(ids(m, findSpans(m, 'host.name=h1')), ['r']);
  assert.deepEqual(findSpans(m, '  '), []);
  assert.equal(isErrorSpan({ tags: [{ key: 'error', value: 'false' }] }), false);
  assert.equal(isErrorSpan({ tags: [{ key: 'otel.status_code', value: 'ERROR' }] }), true);
});

test('10,000 spans in a deep chain and a wide fan build fast', () => {
  const spans = [span('s0', 0, 1e6, null)];
  for (let i = 1; i < 5000; i++) spans.push(span('s' + i, i, 10, 's' + (i - 1)));
  for (let i = 5000; i < 10000; i++) spans.push(span('s' + i, i, 10, 's0'));
  const t0 = performance.now();
  const m = buildTraceModel({ traceID: T, processes: procs, spans });
  const ms = performance.now() - t0;
  assert.equal(m.maxDepth, 4999);
  assert.equal(new Set(m.order).size, 10000);
  assert.equal(descendantCount(m, m.root), 9999);
  // Linear work takes tens of ms here; the bound only catches a quadratic
  // regression, and stays loose because the machine may be busy.
  assert.ok(ms < 5000, `build took ${ms} ms`);
});
