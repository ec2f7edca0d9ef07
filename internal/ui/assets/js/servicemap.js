// The service map's model: X-Ray's service graph (GetServiceGraph's Services) laid out in
// columns by call depth from the clients, nodes sized by traffic, each with the shares of
// its ok, error, throttle and fault responses. Pure: no DOM.
import { layered } from './layered.js';

/** outcomes splits statistics into the counts the rings show, in drawing order. */
export function outcomes(st) {
  const s = st || {};
  const errors = (s.ErrorStatistics && s.ErrorStatistics.TotalCount) || 0;
  const throttles = (s.ErrorStatistics && s.ErrorStatistics.ThrottleCount) || 0;
  const faults = (s.FaultStatistics && s.FaultStatistics.TotalCount) || 0;
  return { ok: s.OkCount || 0, error: errors - throttles, throttle: throttles, fault: faults, total: s.TotalCount || 0 };
}

/** perMinute is a count over [startSec, endSec] as a rate per minute. */
export function perMinute(count, startSec, endSec) {
  const minutes = Math.max((endSec - startSec) / 60, 1 / 60);
  return count / minutes;
}

/** averageMs is the mean response time of statistics, in milliseconds. */
export function averageMs(st) {
  const s = st || {};
  return s.TotalCount ? (1000 * (s.TotalResponseTime || 0)) / s.TotalCount : 0;
}

const RING = 5.5; // the outcome ring's reach outside a node's circle
export const LABEL_ROOM = 38; // below a node's circle: its name and its figures
const LOOP = 22; // how far a self-call's loop rises above its node
const LABEL_H = 15; // an edge label's height
const LABEL_SPOTS = [0.5, 0.35, 0.65, 0.2, 0.8]; // where along a curve a label may go, best first

/**
 * layout draws the service graph left to right: a layered layout (layered.js) with the
 * clients first, nodes sized by traffic, edges that keep to the gaps between nodes and
 * their labels, a self-call as a loop above its node, and each edge's label where it
 * covers no node and no other label. measure(text, kind) is a text's width in pixels
 * (kind: 'node', 'sub' or 'edge'); nodeText(node) is a node's [name, figures] and
 * edgeText(edge) an edge's label. width is the least width; minWidth the one it needs.
 *
 * It returns {nodes, edges, width, height, minWidth}: nodes {id, name, type, client,
 * inferred, service, total, x, y, r, half, title, sub}, edges {from, to, edge, self, reversed, width,
 * d (an SVG path), arrow (polygon points), label: {text, x, y, w, h} or null}.
 */
export function layout(services, { width = 0, minR = 14, maxR = 34, measure = (t) => 7 * t.length,
  nodeText = (n) => [n.name, ''], edgeText = () => '' } = {}) {
  const maxTotal = Math.max(1, ...services.map((s) => outcomes(s.SummaryStatistics).total || edgeTotal(s)));
  const nodes = services.map((s) => {
    const total = outcomes(s.SummaryStatistics).total || edgeTotal(s);
    const n = {
      id: s.ReferenceId, name: String(s.Name ?? ''), type: String(s.Type ?? ''), client: s.Type === 'client',
      inferred: s.State === 'unknown' && s.Type !== 'client', service: s, total,
      r: Math.round(minR + (maxR - minR) * Math.sqrt(total / maxTotal)),
    };
    [n.title, n.sub] = nodeText(n);
    return n;
  });
  const at = new Map(nodes.map((n) => [n.id, n]));
  const calls = services.flatMap((s) => (s.Edges || []).filter((e) => at.has(s.ReferenceId) && at.has(e.ReferenceId))
    .map((e) => ({ from: at.get(s.ReferenceId), to: at.get(e.ReferenceId), edge: e, text: edgeText(e), width: strokeWidth(e) })));
  const loops = new Set(calls.filter((c) => c.from === c.to).map((c) => c.from));
  for (const n of nodes) {
    n.half = Math.ceil(Math.max(n.r + RING, measure(n.title, 'node') / 2, measure(n.sub, 'sub') / 2)) + 4;
    n.top = n.r + RING + (loops.has(n) ? LOOP + LABEL_H + 4 : 0);
    n.bottom = n.r + LABEL_ROOM;
  }
  const g = layered(nodes.map((n) => ({ id: n, top: n.top, bottom: n.bottom, half: n.half, first: n.client })),
    calls.map((c, index) => ({ from: c.from, to: c.to, index, width: c.width })), { width, gap: 110, rowGap: 22 });
  for (const n of nodes) Object.assign(n, g.pos.get(n));

  const boxes = nodes.map((n) => ({ x: n.x - n.half, y: n.y - n.top, w: 2 * n.half, h: n.top + n.bottom }));
  const edges = calls.map((c) => ({ from: c.from, to: c.to, edge: c.edge, self: c.from === c.to, width: c.width, label: null }));
  const curves = new Map(); // edge -> the curves a label may sit on
  const ports = portOffsets(g.routes);
  for (const r of g.routes) {
    const e = edges[r.edge.index];
    const { curves: cv, ...path } = route(r, g.columns, ports, e.width);
    Object.assign(e, path);
    curves.set(e, cv);
  }
  const labels = [];
  edges.forEach((e, i) => {
    if (!e.self) return;
    Object.assign(e, selfLoop(e.from, e.width));
    e.label = label(calls[i].text, e.from.x, e.from.y - e.from.r - RING - LOOP - LABEL_H / 2, measure);
    if (e.label) labels.push(e.label);
  });
  // The busiest calls choose their label's place first.
  const busiest = edges.map((e, i) => [i, outcomes(e.edge.SummaryStatistics).total]).filter(([i]) => !edges[i].self)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [i] of busiest) {
    const spots = curves.get(edges[i]).flatMap((cv) => LABEL_SPOTS.map((t) => bezier(cv, t)))
      .map((p) => label(calls[i].text, p.x, p.y, measure));
    const chosen = spots.find((l) => l && ![...boxes, ...labels].some((b) => overlaps(b, l))) || spots[0];
    if (chosen) labels.push(edges[i].label = chosen);
  }
  return { nodes, edges, width: g.width, minWidth: g.minWidth, height: g.height };
}

/** strokeWidth grows with the logarithm of a call's count. */
function strokeWidth(edge) {
  return 1.5 + Math.min(4, Math.log10(1 + outcomes(edge.SummaryStatistics).total));
}

/**
 * portOffsets spreads the ends of the edges that leave (or enter) a node's side, in the order
 * of where they go (or come from), so that they do not start on top of one another.
 */
function portOffsets(routes) {
  const sides = new Map(); // node -> {out, in}: [{r, towards}]
  const add = (node, side, r, towards) => {
    if (!sides.has(node)) sides.set(node, { out: [], in: [] });
    sides.get(node)[side].push({ r, towards });
  };
  for (const r of routes) {
    add(r.from, 'out', r, (r.via[0] || r.to).y);
    add(r.to, 'in', r, (r.via[r.via.length - 1] || r.from).y);
  }
  const offsets = new Map(); // route -> {out, in}
  for (const [node, both] of sides) {
    for (const side of ['out', 'in']) {
      const list = both[side].sort((a, b) => a.towards - b.towards);
      // Apart by the thickest line and some, as far as the side's height allows.
      const thickest = Math.max(...list.map(({ r }) => r.edge.width));
      const step = list.length > 1 ? Math.min(thickest + 4, (1.2 * node.r) / (list.length - 1)) : 0;
      list.forEach(({ r }, i) => {
        if (!offsets.has(r)) offsets.set(r, {});
        offsets.get(r)[side] = (i - (list.length - 1) / 2) * step;
      });
    }
  }
  return offsets;
}

/**
 * route is a path from the left node's right side to the right node's left side: straight
 * across each column (where nothing else is at that height), a curve across each gap, and an
 * arrowhead at the callee's end. curves are the gaps' Bézier curves, for the label.
 */
function route(r, columns, ports, width) {
  const a = r.from;
  const b = r.to;
  const { out, in: inn } = ports.get(r);
  const head = arrowSize(width);
  const rim = (n, dy) => Math.sqrt(Math.max(0, (n.r + RING) ** 2 - dy * dy)) + 1;
  const points = [{ x: a.x + rim(a, out), y: a.y + out }, { x: columns[a.column].x + columns[a.column].half, y: a.y + out }];
  for (const v of r.via) {
    const col = columns[v.column];
    points.push({ x: col.x - col.half, y: v.y }, { x: col.x + col.half, y: v.y });
  }
  points.push({ x: columns[b.column].x - columns[b.column].half, y: b.y + inn }, { x: b.x - rim(b, inn), y: b.y + inn });
  const first = points[0];
  const last = points[points.length - 1];
  const arrow = r.reversed ? arrowHead(first, { x: -1, y: 0 }, head) : arrowHead(last, { x: 1, y: 0 }, head);
  if (r.reversed) first.x += head.len; else last.x -= head.len;
  // A head longer than the room beside its node pushes the curve out, never the line under the head.
  points[1].x = Math.max(points[1].x, first.x);
  points[points.length - 2].x = Math.min(points[points.length - 2].x, last.x);
  const curves = [];
  let d = `M ${f(first.x)} ${f(first.y)}`;
  for (let i = 1; i < points.length; i++) {
    const p = points[i];
    const q = points[i - 1];
    if (i % 2) {
      d += ` H ${f(p.x)}`;
    } else {
      const mid = (q.x + p.x) / 2;
      const cv = [q, { x: mid, y: q.y }, { x: mid, y: p.y }, p];
      curves.push(cv);
      d += ` C ${f(mid)} ${f(q.y)} ${f(mid)} ${f(p.y)} ${f(p.x)} ${f(p.y)}`;
    }
  }
  return { d, arrow, reversed: r.reversed, curves };
}

/** selfLoop is a small loop above a node, leaving it at the upper right and coming back at the upper left. */
function selfLoop(n, width) {
  const R = n.r + RING;
  const s = { x: n.x + R * Math.sin(0.6), y: n.y - R * Math.cos(0.6) };
  const e = { x: n.x - R * Math.sin(0.6), y: s.y };
  const rise = (4 / 3) * LOOP; // a cubic's control points rise 4/3 of the height it reaches
  const c1 = { x: s.x + 16, y: s.y - rise };
  const c2 = { x: e.x - 16, y: e.y - rise };
  const len = Math.hypot(e.x - c2.x, e.y - c2.y);
  const u = { x: (e.x - c2.x) / len, y: (e.y - c2.y) / len };
  const head = arrowSize(width);
  const end = { x: e.x - u.x * head.len, y: e.y - u.y * head.len };
  return {
    d: `M ${f(s.x)} ${f(s.y)} C ${f(c1.x)} ${f(c1.y)} ${f(c2.x - u.x * head.len)} ${f(c2.y - u.y * head.len)} ${f(end.x)} ${f(end.y)}`,
    arrow: arrowHead(e, u, head), reversed: false,
  };
}

/** arrowSize grows with the edge's width, so that a thin edge gets a small head and a thick one a broader one. */
function arrowSize(width) {
  return { len: 4 + 1.8 * width, half: 2 + 1.1 * width };
}

/** arrowHead is a triangle's points with its tip at tip, pointing along the unit vector u. */
function arrowHead(tip, u, { len, half }) {
  const bx = tip.x - u.x * len;
  const by = tip.y - u.y * len;
  return [[tip.x, tip.y], [bx - u.y * half, by + u.x * half], [bx + u.y * half, by - u.x * half]].map(([x, y]) => `${f(x)},${f(y)}`).join(' ');
}

/** bezier is the point at t along a cubic Bézier curve [p0, p1, p2, p3]. */
function bezier([p0, p1, p2, p3], t) {
  const u = 1 - t;
  const w = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
  return { x: w[0] * p0.x + w[1] * p1.x + w[2] * p2.x + w[3] * p3.x, y: w[0] * p0.y + w[1] * p1.y + w[2] * p2.y + w[3] * p3.y };
}

/** label is an edge label's box centred on (x, y), or null for no text. */
function label(text, x, y, measure) {
  if (!text) return null;
  const w = Math.ceil(measure(text, 'edge')) + 8;
  return { text, x: Math.round(x - w / 2), y: Math.round(y - LABEL_H / 2), w, h: LABEL_H };
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const f = (v) => Math.round(v * 10) / 10;

function edgeTotal(s) {
  return (s.Edges || []).reduce((n, e) => n + outcomes(e.SummaryStatistics).total, 0);
}

/** arcs are the ring's segments for outcome counts: [{kind, from, to}] as fractions of a turn. */
export function arcs(o) {
  const total = o.ok + o.error + o.throttle + o.fault;
  if (!total) return [];
  const out = [];
  let at = 0;
  for (const kind of ['ok', 'error', 'throttle', 'fault']) {
    if (!o[kind]) continue;
    out.push({ kind, from: at, to: at + o[kind] / total });
    at += o[kind] / total;
  }
  return out;
}
