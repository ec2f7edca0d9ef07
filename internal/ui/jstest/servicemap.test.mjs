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

const opts = { width: 900, edgeText: (e) => `${outcomes(e.SummaryStatistics).total}/min` };

test('columns follow the longest call path from the client', () => {
  const { nodes, edges } = layout(graph, opts);
  const x = Object.fromEntries(nodes.map((n) => [n.name, n.x]));
  // client, api, payments, db: db is called by api and by payments, so it comes last.
  assert.ok(x.client < x.api && x.api < x.payments && x.payments < x.db, JSON.stringify(x));
  assert.equal(edges.length, 4);
  assert.ok(nodes.find((n) => n.name === 'db').inferred);
});

test('radius grows with traffic', () => {
  const { nodes } = layout(graph);
  const r = Object.fromEntries(nodes.map((n) => [n.name, n.r]));
  assert.equal(r.api, r.db); // 10 each: the busiest
  assert.ok(r.payments < r.api);
});

// A shop of 28 services and its clients: fan-outs, long calls, a cycle (orders <-> notifications) and a
// service that calls itself.
const calls = {
  client: ['web', 'mobile-bff'], web: ['gateway', 'cdn-edge'], 'mobile-bff': ['gateway', 'users', 'recommendations'],
  gateway: ['auth', 'users', 'orders', 'catalog', 'search', 'cart'],
  orders: ['payments', 'inventory', 'shipping', 'notifications', 'users', 'orders'],
  payments: ['fraud-check', 'ledger', 'bank-adapter'], cart: ['catalog', 'pricing', 'inventory'], search: ['catalog', 'elasticsearch'],
  catalog: ['postgres-catalog', 'pricing'], users: ['postgres-users', 'redis-sessions'], auth: ['redis-sessions', 'users'],
  shipping: ['carrier-api', 'notifications'], notifications: ['email-sender', 'sms-gateway', 'orders'],
  recommendations: ['catalog', 'ml-model'], 'fraud-check': ['ml-model'], ledger: ['postgres-ledger'],
};
const names = [...new Set([...Object.keys(calls), ...Object.values(calls).flat()])];
const shop = names.map((name, i) => ({
  ReferenceId: i, Name: name, Type: name === 'client' ? 'client' : '', SummaryStatistics: stats(5 + i, 0, 0, i % 3),
  Edges: (calls[name] || []).map((to, k) => ({ ReferenceId: names.indexOf(to), SummaryStatistics: stats(1 + k, 0, 0, 0) })),
}));
const wordy = { ...opts, measure: (t, kind) => t.length * (kind === 'node' ? 7.5 : 6), nodeText: (n) => [n.name, `${n.total}/min · 12.5ms`] };

// boxOf is what a node covers: its ring, and its name and figures below it.
const boxOf = (n) => ({ x: n.x - n.half, y: n.y - n.r - 5.5, w: 2 * n.half, h: n.r + 5.5 + n.r + 38 });
const inside = (p, b) => p.x > b.x && p.x < b.x + b.w && p.y > b.y && p.y < b.y + b.h;
const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

// pathPoints samples an SVG path of M, H and C commands (what the layout draws with).
function pathPoints(d) {
  const tokens = d.trim().split(/\s+/);
  const out = [];
  let at = { x: 0, y: 0 };
  for (let i = 0; i < tokens.length;) {
    const cmd = tokens[i++];
    const num = () => Number(tokens[i++]);
    if (cmd === 'M') {
      at = { x: num(), y: num() };
      out.push(at);
    } else if (cmd === 'H') {
      const x = num();
      for (let k = 1; k <= 20; k++) out.push({ x: at.x + ((x - at.x) * k) / 20, y: at.y });
      at = { x, y: at.y };
    } else if (cmd === 'C') {
      const [x1, y1, x2, y2, x, y] = [num(), num(), num(), num(), num(), num()];
      for (let k = 1; k <= 40; k++) {
        const t = k / 40;
        const u = 1 - t;
        out.push({ x: u ** 3 * at.x + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t ** 3 * x, y: u ** 3 * at.y + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t ** 3 * y });
      }
      at = { x, y };
    } else {
      throw new Error(`unexpected path command ${cmd} in ${d}`);
    }
  }
  return out;
}

test('on a map of 29 nodes no two overlap, with their labels', () => {
  const { nodes } = layout(shop, wordy);
  assert.equal(nodes.length, 29);
  for (const a of nodes) {
    for (const b of nodes) {
      if (a !== b) assert.ok(!overlap(boxOf(a), boxOf(b)), `${a.name} overlaps ${b.name}`);
    }
  }
});

test('no call runs through a node or its labels, other than its own ends', () => {
  const { nodes, edges } = layout(shop, wordy);
  for (const e of edges.filter((e) => !e.self)) {
    const points = pathPoints(e.d);
    for (const n of nodes) {
      if (n === e.from || n === e.to) continue;
      const hit = points.find((p) => inside(p, boxOf(n)));
      assert.ok(!hit, `${e.from.name} -> ${e.to.name} runs through ${n.name} at ${JSON.stringify(hit)}`);
    }
  }
});

test('edge labels cover no node and no other label', () => {
  const { nodes, edges } = layout(shop, wordy);
  const labels = edges.map((e) => e.label);
  assert.ok(labels.every(Boolean), 'every call with traffic has its label');
  for (const l of labels) {
    for (const n of nodes) assert.ok(!overlap(l, boxOf(n)), `label ${l.text} covers ${n.name}`);
    for (const m of labels) assert.ok(l === m || !overlap(l, m), `labels ${l.text} and ${m.text} overlap`);
  }
});

// arrowOf reads an arrowhead's tip and its length (tip to the base's middle).
function arrowOf(e) {
  const [tip, b1, b2] = e.arrow.split(' ').map((p) => p.split(',').map(Number));
  return { tip, len: Math.hypot(tip[0] - (b1[0] + b2[0]) / 2, tip[1] - (b1[1] + b2[1]) / 2) };
}

test('arrowheads are sized to their edge and point at the callee', () => {
  const { edges } = layout(shop, wordy);
  for (const e of edges) {
    const { tip, len } = arrowOf(e);
    assert.ok(len >= 2 * e.width && len <= 5 * e.width, `${e.from.name} -> ${e.to.name}: head ${len} for width ${e.width}`);
    // The tip touches the callee's ring (its outer edge is 5.5 outside the circle).
    const dist = Math.hypot(tip[0] - e.to.x, tip[1] - e.to.y);
    assert.ok(Math.abs(dist - (e.to.r + 5.5)) <= 2, `${e.from.name} -> ${e.to.name}: tip ${dist} from ${e.to.name}'s centre`);
  }
  const thin = edges.find((e) => e.from.name === 'client' && e.to.name === 'web');
  const thick = edges.find((e) => e.from.name === 'gateway' && e.to.name === 'cart');
  assert.ok(thin.width < thick.width && arrowOf(thin).len < arrowOf(thick).len);
});

test('a call back to an earlier column keeps its arrow at the callee', () => {
  const { edges } = layout(shop, wordy);
  const back = edges.find((e) => e.from.name === 'notifications' && e.to.name === 'orders');
  assert.ok(back.reversed);
  assert.ok(back.to.x < back.from.x);
});

test('a service that calls itself gets a small loop above it, with its count', () => {
  const { nodes, edges } = layout(shop, wordy);
  const loop = edges.find((e) => e.self);
  const orders = nodes.find((n) => n.name === 'orders');
  assert.equal(loop.from, orders);
  assert.equal(loop.label.text, '6/min');
  const points = pathPoints(loop.d);
  assert.ok(points.every((p) => p.y < orders.y && Math.abs(p.x - orders.x) <= orders.r + 20), 'above the node, close to it');
  assert.ok(Math.min(...points.map((p) => p.y)) > orders.y - orders.r - 5.5 - 40, 'small');
  assert.ok(loop.label.y + loop.label.h <= Math.min(...points.map((p) => p.y)), 'the count sits above the loop');
  for (const n of nodes) assert.ok(n === orders || !overlap(loop.label, boxOf(n)), `the count covers ${n.name}`);
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

test('any graph, however odd, is laid out with finite coordinates and nodes apart', () => {
  let seed = 1;
  const random = (n) => {
    seed = (seed * 48271) % 2147483647;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const size = 1 + random(12);
    const services = Array.from({ length: size }, (_, i) => ({
      ReferenceId: random(3) ? i : random(size), // now and then an id twice
      Name: random(5) ? `s${i}` : null, Type: random(4) ? '' : 'client', Root: !random(3), State: random(2) ? 'active' : 'unknown',
      SummaryStatistics: random(4) ? stats(random(50), random(5), random(3), random(5)) : undefined,
      Edges: Array.from({ length: random(4) }, () => ({ ReferenceId: random(size + 2), SummaryStatistics: random(3) ? stats(random(9), 0, 0, random(2)) : undefined })),
    }));
    const { nodes, edges, width, height } = layout(services, wordy);
    assert.ok(Number.isFinite(width) && Number.isFinite(height), `round ${round}: size ${width} x ${height}`);
    for (const n of nodes) assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `round ${round}: ${n.name} at ${n.x}, ${n.y}`);
    for (const e of edges) assert.ok(!/NaN|undefined|Infinity/.test(`${e.d} ${e.arrow}`), `round ${round}: ${e.d} ${e.arrow}`);
    for (const a of nodes) for (const b of nodes) assert.ok(a === b || !overlap(boxOf(a), boxOf(b)), `round ${round}: ${a.name} overlaps ${b.name}`);
  }
});
