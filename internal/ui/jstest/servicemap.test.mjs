import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layout, outcomes, arcs, perMinute, averageMs } from '../assets/js/servicemap.js';

const stats = (ok, err, thr, fault) => ({
  OkCount: ok, ErrorStatistics: { TotalCount: err + thr, ThrottleCount: thr, OtherCount: err }, FaultStatistics: { TotalCount: fault, OtherCount: fault },
  TotalCount: ok + err + thr + fault, TotalResponseTime: (ok + err + thr + fault) * 0.2,
});

const graph = [
  { ReferenceId: 0, Name: 'client', Type: 'client', State: 'unknown', Edges: [{ ReferenceId: 1, SummaryStatistics: stats(8, 0, 0, 2) }] },
  { ReferenceId: 1, Name: 'api', Type: '', Root: true, State: 'active', SummaryStatistics: stats(8, 0, 0, 2), Edges: [{ ReferenceId: 2 }, { ReferenceId: 3 }] },
  { ReferenceId: 2, Name: 'db', Type: 'Database::SQL', State: 'unknown', SummaryStatistics: stats(10, 0, 0, 0), Edges: [] },
  { ReferenceId: 3, Name: 'payments', Type: '', State: 'active', SummaryStatistics: stats(1, 1, 1, 1), Edges: [{ ReferenceId: 2 }] },
];

test('columns follow the longest call path from the client', () => {
  const { nodes, edges } = layout(graph, { width: 400, height: 200 });
  const x = Object.fromEntries(nodes.map((n) => [n.name, n.x]));
  // client, api, payments, db: db is called by api and by payments, so it comes last.
  assert.deepEqual([x.client, x.api, x.payments, x.db], [50, 150, 250, 350]);
  assert.equal(edges.length, 4);
  assert.ok(nodes.find((n) => n.name === 'db').inferred);
});

test('radius grows with traffic', () => {
  const { nodes } = layout(graph);
  const r = Object.fromEntries(nodes.map((n) => [n.name, n.r]));
  assert.equal(r.api, r.db); // 10 each: the busiest
  assert.ok(r.payments < r.api);
});

test('a crowded column makes the map taller', () => {
  const many = [{ ReferenceId: 0, Name: 'client', Type: 'client', Edges: Array.from({ length: 8 }, (_, i) => ({ ReferenceId: i + 1 })) },
    ...Array.from({ length: 8 }, (_, i) => ({ ReferenceId: i + 1, Name: `s${i}`, Root: true, Edges: [] }))];
  const { height, nodes } = layout(many, { height: 400, rowGap: 80 });
  assert.equal(height, 640);
  const ys = nodes.filter((n) => !n.client).map((n) => n.y).sort((a, b) => a - b);
  assert.ok(ys.every((y, i) => i === 0 || y - ys[i - 1] >= 80));
});

test('outcomes, rings, rates', () => {
  const o = outcomes(stats(1, 2, 3, 4));
  assert.deepEqual(o, { ok: 1, error: 2, throttle: 3, fault: 4, total: 10 });
  assert.deepEqual(arcs(o).map((a) => [a.kind, +a.to.toFixed(2)]), [['ok', 0.1], ['error', 0.3], ['throttle', 0.6], ['fault', 1]]);
  assert.deepEqual(arcs(outcomes({})), []);
  assert.equal(perMinute(30, 0, 600), 3);
  assert.ok(Math.abs(averageMs(stats(1, 0, 0, 1)) - 200) < 1e-9);
});

test('a cycle does not hang the layout', () => {
  const cyc = [
    { ReferenceId: 1, Name: 'a', Root: true, Edges: [{ ReferenceId: 2 }] },
    { ReferenceId: 2, Name: 'b', Edges: [{ ReferenceId: 1 }] },
  ];
  assert.equal(layout(cyc).nodes.length, 2);
});
