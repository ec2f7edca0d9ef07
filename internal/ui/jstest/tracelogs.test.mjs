// Unit tests of the waterfall's timeline marks: which row a trace's log line goes on, at what
// time, and how the marks of a row gather when they crowd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTraceModel } from '../assets/js/tracemodel.js';
import { logMarks, timeMicros } from '../assets/js/tracelogs.js';
import { clusterMarks } from '../assets/js/waterfall.js';

const T = '0af7651916cd43dd8448eb211c80319c';
const start = Date.UTC(2026, 10, 30, 4, 0, 0) * 1000; // µs
const span = (id, at, dur, parent) => ({ traceID: T, spanID: id, operationName: id, startTime: start + at, duration: dur, processID: 'p',
  references: parent ? [{ refType: 'CHILD_OF', traceID: T, spanID: parent }] : [] });
const model = buildTraceModel({ traceID: T, processes: { p: { serviceName: 'api' } }, spans: [span('b', 100, 50, 'a'), span('a', 0, 1000)] });
const iso = (us) => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1e6).padStart(6, '0')}Z`;

test('timeMicros keeps the microseconds of an RFC 3339 time', () => {
  assert.equal(timeMicros('2026-11-30T04:00:00.000123456Z'), start + 123);
  assert.equal(timeMicros('2026-11-30T04:00:01Z'), start + 1e6);
  assert.equal(timeMicros(iso(start + 4321)), start + 4321);
});

test('a line goes on the row of its span, or the root\'s; by time', () => {
  const marks = logMarks(model, [
    { time: iso(start + 140), spanID: 'b', body: 'late', severityText: 'ERROR' },
    { time: iso(start + 120), spanID: 'b', body: { k: 1 } },
    { time: iso(start + 500), body: 'no span' },
    { time: iso(start + 600), spanID: 'elsewhere', body: 'a span of another trace' },
    { time: 'not a time', spanID: 'b', body: 'dropped' },
  ]);
  const a = model.byID.get('a');
  const b = model.byID.get('b');
  assert.deepEqual(marks.get(b), [{ t: 120, text: '{"k":1}', severity: '', error: false }, { t: 140, text: 'late', severity: 'ERROR', error: true }]);
  assert.deepEqual(marks.get(a).map((mk) => [mk.t, mk.text]), [[500, 'no span'], [600, 'a span of another trace']]);
});

test('a line kept to the millisecond in the trace\'s first one sits at its start', () => {
  const marks = logMarks(model, [{ time: new Date(Math.floor(start / 1000) - 1).toISOString(), body: 'a millisecond early' }]);
  assert.equal(marks.get(model.root)[0].t, -1000, 'a whole millisecond before is before');
  const within = logMarks(buildTraceModel({ traceID: T, processes: { p: { serviceName: 'api' } }, spans: [span('a', 700, 1000)] }),
    [{ time: new Date(Math.floor(start / 1000)).toISOString(), body: 'same millisecond' }]);
  assert.equal(within.get(0)[0].t, 0);
});

test('marks closer than the gap gather; those outside the window drop, those outside the trace sit at its edge', () => {
  const at = (...ts) => ts.map((t) => ({ t }));
  // A 1000 µs trace, all shown: 1% is 10 µs.
  const c = clusterMarks(at(-5000, 100, 105, 113, 500, 2000), 0, 1000, 1000, 1.2);
  assert.deepEqual(c.map((x) => [x.left, x.marks.length, x.outside]), [[0, 1, true], [10, 2, false], [11.3, 1, false], [50, 1, false], [100, 1, true]]);
  // Zoomed into [100, 200]: only what is inside, nothing pinned to edges that are not the trace's.
  const z = clusterMarks(at(-5000, 50, 150, 2000), 100, 200, 1000, 1.2);
  assert.deepEqual(z.map((x) => [x.left, x.marks.length, x.outside]), [[50, 1, false]]);
  // A thousand lines at one instant make one mark.
  assert.equal(clusterMarks(at(...Array(1000).fill(300)), 0, 1000, 1000).length, 1);
});
