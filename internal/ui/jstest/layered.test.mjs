// Unit tests of the layered graph layout behind the service map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layered, isotonic } from '../assets/js/layered.js';

const node = (id, first = false) => ({ id, top: 20, bottom: 20, half: 30, first });
const edges = (...pairs) => pairs.map(([from, to]) => ({ from, to }));

// crossingsOf counts, from the positions alone, the pairs of edges between the same two
// columns whose ends are in opposite orders.
function crossingsOf({ pos, routes }) {
  const segs = routes.flatMap((r) => {
    const pts = [pos.get(r.from), ...r.via, pos.get(r.to)];
    return pts.slice(1).map((p, i) => [pts[i], p]);
  });
  let n = 0;
  for (let i = 0; i < segs.length; i++) {
    for (let j = i + 1; j < segs.length; j++) {
      const [a, b] = [segs[i], segs[j]];
      if (a[0].column === b[0].column && (a[0].y - b[0].y) * (a[1].y - b[1].y) < 0) n++;
    }
  }
  return n;
}

test('a chain of calls runs left to right on one line', () => {
  const g = layered(['a', 'b', 'c', 'd'].map((id) => node(id)), edges(['a', 'b'], ['b', 'c'], ['c', 'd']));
  const at = ['a', 'b', 'c', 'd'].map((id) => g.pos.get(id));
  assert.deepEqual(at.map((p) => p.column), [0, 1, 2, 3]);
  assert.ok(at.every((p, i) => i === 0 || p.x > at[i - 1].x), 'x grows along the chain');
  assert.ok(at.every((p) => p.y === at[0].y), `one height: ${at.map((p) => p.y)}`);
});

test('barycentre ordering removes the crossings the input order makes', () => {
  // a calls y and b calls x; listed as x before y, the two calls would cross once.
  const g = layered([node('c', true), node('a'), node('b'), node('x'), node('y')], edges(['c', 'a'], ['c', 'b'], ['a', 'y'], ['b', 'x']));
  assert.equal(crossingsOf(g), 0);
  assert.ok(g.pos.get('a').y < g.pos.get('b').y === g.pos.get('y').y < g.pos.get('x').y);
});

test('a graph that must cross, crosses as few times as it must', () => {
  // Two callers that both call the same two services: one crossing cannot be avoided (K2,2).
  const k22 = layered([node('a'), node('b'), node('x'), node('y')], edges(['a', 'x'], ['a', 'y'], ['b', 'x'], ['b', 'y']));
  assert.equal(crossingsOf(k22), 1);
  // Three callers each calling the two services that are not "its own" form one 6-cycle,
  // which no order of two columns draws with fewer than 2 crossings: check every order.
  const calls = [['a', 'y'], ['a', 'z'], ['b', 'x'], ['b', 'z'], ['c', 'x'], ['c', 'y']];
  const six = layered(['a', 'b', 'c', 'x', 'y', 'z'].map((id) => node(id)), edges(...calls));
  let fewest = Infinity;
  for (const left of permutations(['a', 'b', 'c'])) {
    for (const right of permutations(['x', 'y', 'z'])) {
      const at = (id) => (left.includes(id) ? left : right).indexOf(id);
      let n = 0;
      for (const [p, q] of calls) for (const [r, s] of calls) if ((at(p) - at(r)) * (at(q) - at(s)) < 0) n++;
      fewest = Math.min(fewest, n / 2);
    }
  }
  assert.equal(fewest, 2);
  assert.equal(crossingsOf(six), fewest);
});

function permutations(xs) {
  return xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

test('a long edge passes through the columns between its ends, where no node is', () => {
  const g = layered([node('a'), node('b'), node('c'), node('m')], edges(['a', 'b'], ['b', 'c'], ['a', 'c'], ['a', 'm'], ['m', 'c']));
  const long = g.routes.find((r) => r.from === 'a' && r.to === 'c');
  assert.equal(long.via.length, 1);
  const v = long.via[0];
  assert.equal(v.column, 1);
  for (const id of ['b', 'm']) {
    const p = g.pos.get(id);
    assert.ok(Math.abs(p.y - v.y) >= 20, `${id} at ${p.y} leaves room for the edge at ${v.y}`);
  }
});

test('a cycle is drawn with its closing edge reversed, and nodes keep apart', () => {
  const g = layered([node('a', true), node('b'), node('c')], edges(['a', 'b'], ['b', 'c'], ['c', 'b']));
  const back = g.routes.find((r) => r.edge.from === 'c');
  assert.equal(back.reversed, true);
  assert.deepEqual([back.from, back.to], ['b', 'c'], 'left to right');
  assert.ok(g.pos.get('b').x < g.pos.get('c').x);
});

test('the nodes of a crowded column keep their room, and the map grows to hold them', () => {
  const many = [node('root', true), ...Array.from({ length: 12 }, (_, i) => node(`s${i}`))];
  const g = layered(many, many.slice(1).map((n) => ({ from: 'root', to: n.id })), { rowGap: 10, margin: 5 });
  const ys = many.slice(1).map((n) => g.pos.get(n.id).y).sort((a, b) => a - b);
  assert.ok(ys.every((y, i) => i === 0 || y - ys[i - 1] >= 20 + 20 + 10), `spaced: ${ys}`);
  assert.equal(g.height, 12 * 40 + 11 * 10 + 2 * 5);
});

test('spare width widens the gaps; a wide graph says the width it needs', () => {
  const nodes = [node('a'), node('b')];
  const narrow = layered(nodes, edges(['a', 'b']), { gap: 100, margin: 10, width: 100 });
  assert.equal(narrow.minWidth, 10 + 60 + 100 + 60 + 10);
  assert.equal(narrow.width, narrow.minWidth);
  const wide = layered(nodes, edges(['a', 'b']), { gap: 100, margin: 10, width: 640 });
  assert.equal(wide.width, 640);
  assert.equal(wide.pos.get('b').x - wide.pos.get('a').x, 30 + 100 + 200 + 30);
});

test('isotonic fits a non-decreasing sequence by pooling neighbours that disagree', () => {
  assert.deepEqual(isotonic([1, 3, 2, 4], [1, 1, 1, 1]), [1, 2.5, 2.5, 4]);
  assert.deepEqual(isotonic([5, 1], [1, 3]), [2, 2]);
  assert.deepEqual(isotonic([], []), []);
});
