// A layered drawing of a directed graph, left to right (Sugiyama's method): cycles are
// broken by reversing the edges that close them, nodes go into columns by their longest
// path from a source, an edge that spans columns passes through a point in each column it
// crosses (so that it keeps to the gaps between nodes), barycentre sweeps order each column
// to reduce crossings, and each node then moves towards its neighbours as far as the spacing
// lets it. Pure: no DOM.

const SWEEPS = 24; // ordering passes at most; small graphs settle in a few
const PATIENCE = 4; // passes without fewer crossings before ordering stops
const RELAX = 12; // passes that pull nodes towards their neighbours
const DUMMY = 6; // the room an edge passing through a column takes above and below itself

/**
 * layered places nodes [{id, top, bottom, half, first}] joined by edges [{from, to}]
 * (node ids; an edge from a node to itself is ignored). A node takes top and bottom above
 * and below its y, and half on either side of its x; nodes marked first are alone in the
 * first column. opts: gap (the least space between columns), rowGap (between nodes of a
 * column), margin, width (the least width: spare width widens the gaps).
 *
 * It returns pos (a Map of id to {x, y, column}), columns ([{x, half}]), routes (one for each
 * edge between two nodes, in order: {edge, from, to, reversed, via}: from and to ordered left
 * to right, reversed when that is against the edge's direction, via the points {x, y,
 * column} the edge passes through in the columns between them), width, height, and minWidth
 * (the width the graph needs).
 */
export function layered(nodes, edges, { gap = 100, rowGap = 24, margin = 16, width = 0 } = {}) {
  if (!nodes.length) return { pos: new Map(), columns: [], routes: [], width, minWidth: 0, height: 0 };
  const items = nodes.map((n) => ({ ...n, dummy: false }));
  const byId = new Map(items.map((n) => [n.id, n]));
  const links = edges.filter((e) => e.from !== e.to && byId.has(e.from) && byId.has(e.to));
  const reversed = backEdges(items, links);
  const forward = links.map((e, i) => (reversed.has(i) ? { from: e.to, to: e.from } : e));
  const layerOf = longestPath(items, forward);

  // Split edges at every column they cross: segments join adjacent columns only.
  const segments = [];
  const chains = forward.map((e) => {
    const chain = [byId.get(e.from)];
    for (let l = layerOf.get(e.from) + 1; l < layerOf.get(e.to); l++) {
      const d = { id: Symbol('dummy'), top: DUMMY, bottom: DUMMY, half: 0, dummy: true };
      layerOf.set(d.id, l);
      items.push(d);
      chain.push(d);
    }
    chain.push(byId.get(e.to));
    for (let k = 1; k < chain.length; k++) segments.push([chain[k - 1], chain[k]]);
    return chain;
  });

  const layers = [];
  for (const it of items) (layers[layerOf.get(it.id)] ||= []).push(it);
  const columns = layers.filter(Boolean);
  const ordered = order(columns, segments);
  placeY(ordered, segments, rowGap, margin);
  const xs = placeX(ordered, gap, margin, width);

  const pos = new Map();
  ordered.forEach((col, c) => col.forEach((it) => { it.x = xs.x[c]; pos.set(it.id, { x: it.x, y: it.y, column: c }); }));
  const routes = chains.map((chain, i) => ({
    edge: links[i], from: chain[0].id, to: chain[chain.length - 1].id, reversed: reversed.has(i),
    via: chain.slice(1, -1).map((d) => pos.get(d.id)),
  }));
  const height = Math.max(0, ...items.map((it) => it.y + it.bottom)) + margin;
  return { pos, columns: xs.columns, routes, width: xs.width, minWidth: xs.minWidth, height };
}

/** backEdges finds, by depth-first search from the first nodes, the edges that close cycles. */
function backEdges(items, links) {
  const out = new Map(items.map((n) => [n.id, []]));
  links.forEach((e, i) => out.get(e.from).push([e.to, i]));
  const state = new Map(); // 1: on the search's path, 2: done
  const back = new Set();
  const starts = [...items.filter((n) => n.first), ...items.filter((n) => !n.first)];
  for (const s of starts) {
    if (state.has(s.id)) continue;
    // Iterative, so that a long chain of calls cannot overflow the stack.
    const stack = [[s.id, 0]];
    state.set(s.id, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const next = out.get(top[0])[top[1]++];
      if (!next) {
        state.set(top[0], 2);
        stack.pop();
      } else if (state.get(next[0]) === 1) {
        back.add(next[1]);
      } else if (!state.has(next[0])) {
        state.set(next[0], 1);
        stack.push([next[0], 0]);
      }
    }
  }
  return back;
}

/** longestPath puts each node one column right of its furthest caller; first nodes alone in column 0. */
function longestPath(items, forward) {
  const start = items.some((n) => n.first) ? 1 : 0;
  const layer = new Map(items.map((n) => [n.id, n.first ? 0 : start]));
  const ins = new Map(items.map((n) => [n.id, 0]));
  const out = new Map(items.map((n) => [n.id, []]));
  for (const e of forward) {
    ins.set(e.to, ins.get(e.to) + 1);
    out.get(e.from).push(e.to);
  }
  const ready = items.filter((n) => ins.get(n.id) === 0).map((n) => n.id);
  while (ready.length) {
    const id = ready.shift();
    for (const to of out.get(id)) {
      layer.set(to, Math.max(layer.get(to), layer.get(id) + 1));
      ins.set(to, ins.get(to) - 1);
      if (ins.get(to) === 0) ready.push(to);
    }
  }
  return layer;
}

/** order returns the columns reordered to reduce crossings: the best of alternating barycentre sweeps. */
function order(columns, segments) {
  const left = new Map(); // an item's neighbours in the column before it
  const right = new Map();
  for (const [a, b] of segments) {
    if (!left.has(b)) left.set(b, []);
    if (!right.has(a)) right.set(a, []);
    left.get(b).push(a);
    right.get(a).push(b);
  }
  const cols = columns.map((c) => c.slice());
  let best = cols.map((c) => c.slice());
  let fewest = crossings(cols, segments);
  for (let s = 0, lastBetter = 0; s < SWEEPS && fewest > 0 && s - lastBetter <= PATIENCE; s++) {
    const down = s % 2 === 0;
    for (let k = 1; k < cols.length; k++) {
      const c = down ? k : cols.length - 1 - k;
      const ref = cols[down ? c - 1 : c + 1];
      cols[c] = byBarycentre(cols[c], ref, down ? left : right);
    }
    transpose(cols, left, right);
    const n = crossings(cols, segments);
    if (n < fewest) {
      fewest = n;
      lastBetter = s;
      best = cols.map((c) => c.slice());
    }
  }
  return best;
}

/** byBarycentre sorts a column by the mean position of each item's neighbours in ref; an item without any keeps its place. */
function byBarycentre(col, ref, neighbours) {
  const at = new Map(ref.map((it, i) => [it, (i + 0.5) / ref.length]));
  const key = new Map(col.map((it, i) => {
    const ns = (neighbours.get(it) || []).filter((n) => at.has(n));
    return [it, ns.length ? ns.reduce((s, n) => s + at.get(n), 0) / ns.length : (i + 0.5) / col.length];
  }));
  return col.map((it, i) => [it, i]).sort((a, b) => key.get(a[0]) - key.get(b[0]) || a[1] - b[1]).map(([it]) => it);
}

/** transpose swaps neighbours in a column while that removes crossings with the columns either side. */
function transpose(cols, left, right) {
  const at = new Map();
  cols.forEach((col) => col.forEach((it, i) => at.set(it, i)));
  const cost = (u, v) => pairCrossings(u, v, left, at) + pairCrossings(u, v, right, at);
  for (let improved = true, rounds = 0; improved && rounds < 8; rounds++) {
    improved = false;
    for (const col of cols) {
      for (let i = 0; i + 1 < col.length; i++) {
        const u = col[i];
        const v = col[i + 1];
        if (cost(v, u) < cost(u, v)) {
          col[i] = v;
          col[i + 1] = u;
          at.set(v, i);
          at.set(u, i + 1);
          improved = true;
        }
      }
    }
  }
}

/** pairCrossings counts the crossings between the edges of u and of v (u above v) to one side, at being positions. */
function pairCrossings(u, v, neighbours, at) {
  const us = neighbours.get(u);
  const vs = neighbours.get(v);
  if (!us || !vs) return 0;
  let n = 0;
  for (const a of us) for (const b of vs) if (at.get(a) > at.get(b)) n++;
  return n;
}

/** crossings counts the pairs of segments that cross, given the columns' order. */
function crossings(cols, segments) {
  const at = new Map();
  const column = new Map();
  cols.forEach((col, c) => col.forEach((it, i) => {
    at.set(it, i);
    column.set(it, c);
  }));
  const byGap = cols.map(() => []);
  for (const [a, b] of segments) byGap[column.get(a)].push([at.get(a), at.get(b)]);
  let n = 0;
  for (const segs of byGap) {
    for (let i = 0; i < segs.length; i++) {
      for (let j = i + 1; j < segs.length; j++) {
        if ((segs[i][0] - segs[j][0]) * (segs[i][1] - segs[j][1]) < 0) n++;
      }
    }
  }
  return n;
}

/**
 * placeY stacks each column, then moves items towards the mean height of their neighbours
 * while keeping every item's room: the least-squares fit under the spacing constraints.
 */
function placeY(cols, segments, rowGap, margin) {
  const neighbours = new Map();
  for (const [a, b] of segments) {
    if (!neighbours.has(a)) neighbours.set(a, []);
    if (!neighbours.has(b)) neighbours.set(b, []);
    neighbours.get(a).push(b);
    neighbours.get(b).push(a);
  }
  const space = (a, b) => a.bottom + b.top + (a.dummy && b.dummy ? 2 : a.dummy || b.dummy ? rowGap / 2 : rowGap);
  const offsets = cols.map((col) => {
    let at = 0;
    return col.map((it, i) => (at += i ? space(col[i - 1], it) : 0));
  });
  const tallest = Math.max(...cols.map((col, c) => offsets[c][col.length - 1] + col[0].top + col[col.length - 1].bottom));
  cols.forEach((col, c) => {
    const shift = margin + (tallest - (offsets[c][col.length - 1] + col[0].top + col[col.length - 1].bottom)) / 2 + col[0].top;
    col.forEach((it, i) => { it.y = shift + offsets[c][i]; });
  });
  for (let r = 0; r < RELAX; r++) {
    cols.forEach((col, c) => {
      const wanted = col.map((it) => {
        const ns = neighbours.get(it) || [];
        return ns.length ? ns.reduce((s, n) => s + n.y, 0) / ns.length : it.y;
      });
      const fitted = isotonic(wanted.map((w, i) => w - offsets[c][i]), col.map((it) => (it.dummy ? 2 : 1)));
      col.forEach((it, i) => { it.y = fitted[i] + offsets[c][i]; });
    });
  }
  const top = Math.min(...cols.flat().map((it) => it.y - it.top));
  for (const it of cols.flat()) it.y = Math.round(it.y - top + margin);
}

/** isotonic is the non-decreasing sequence nearest to values (weighted least squares): pool adjacent violators. */
export function isotonic(values, weights) {
  const blocks = [];
  values.forEach((v, i) => {
    blocks.push({ v, w: weights[i], n: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2].v > blocks[blocks.length - 1].v) {
      const b = blocks.pop();
      const a = blocks[blocks.length - 1];
      a.v = (a.v * a.w + b.v * b.w) / (a.w + b.w);
      a.w += b.w;
      a.n += b.n;
    }
  });
  return blocks.flatMap((b) => Array(b.n).fill(b.v));
}

/** placeX puts the columns side by side, each as wide as its widest node, spare width shared between the gaps. */
function placeX(cols, gap, margin, width) {
  const halves = cols.map((col) => Math.max(0, ...col.map((it) => it.half)));
  const minWidth = 2 * margin + halves.reduce((s, h) => s + 2 * h, 0) + gap * (cols.length - 1);
  const spare = Math.max(0, width - minWidth) / cols.length;
  const x = [];
  let at = margin + spare / 2;
  halves.forEach((h, c) => {
    x.push(Math.round(at + h));
    at += 2 * h + gap + spare;
  });
  return { x, columns: halves.map((half, c) => ({ x: x[c], half })), minWidth, width: Math.max(width, minWidth) };
}
