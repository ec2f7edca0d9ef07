// The service map's model: X-Ray's service graph (GetServiceGraph's Services) laid out in
// columns by call depth from the clients, nodes sized by traffic, each with the shares of
// its ok, error, throttle and fault responses. Pure: no DOM.

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

/**
 * layout places the graph's nodes: column = longest call depth from a root (the client
 * first), rows spread evenly (the height grows to keep rowGap between them); radius grows
 * with the square root of traffic.
 */
export function layout(services, { width = 900, height = 480, rowGap = 86, minR = 14, maxR = 34 } = {}) {
  const byId = new Map(services.map((s) => [s.ReferenceId, s]));
  const depth = new Map();
  const roots = services.filter((s) => s.Type === 'client' || s.Root);
  const queue = roots.map((s) => [s.ReferenceId, s.Type === 'client' ? 0 : 1]);
  // Longest path, bounded by the number of nodes so that a cycle cannot loop forever.
  for (let steps = 0; queue.length && steps < services.length * services.length + 10; steps++) {
    const [id, d] = queue.shift();
    if ((depth.get(id) ?? -1) >= d) continue;
    depth.set(id, d);
    for (const e of (byId.get(id) || {}).Edges || []) {
      if (byId.has(e.ReferenceId)) queue.push([e.ReferenceId, d + 1]);
    }
  }
  for (const s of services) if (!depth.has(s.ReferenceId)) depth.set(s.ReferenceId, 1);
  const columns = [];
  for (const s of services) {
    const d = depth.get(s.ReferenceId);
    (columns[d] = columns[d] || []).push(s);
  }
  const used = columns.filter(Boolean);
  height = Math.max(height, rowGap * Math.max(...used.map((c) => c.length)));
  const maxTotal = Math.max(1, ...services.map((s) => outcomes(s.SummaryStatistics).total || edgeTotal(s)));
  const nodes = [];
  used.forEach((col, ci) => {
    col.sort((a, b) => String(a.Name).localeCompare(String(b.Name)));
    col.forEach((s, ri) => {
      const total = outcomes(s.SummaryStatistics).total || edgeTotal(s);
      nodes.push({
        id: s.ReferenceId, name: String(s.Name ?? ''), type: String(s.Type ?? ''), client: s.Type === 'client',
        inferred: s.State === 'unknown' && s.Type !== 'client', service: s,
        x: Math.round(((ci + 0.5) * width) / used.length), y: Math.round(((ri + 0.5) * height) / col.length),
        r: Math.round(minR + (maxR - minR) * Math.sqrt(total / maxTotal)), total,
      });
    });
  });
  const at = new Map(nodes.map((n) => [n.id, n]));
  const edges = [];
  for (const s of services) {
    for (const e of s.Edges || []) {
      if (at.has(s.ReferenceId) && at.has(e.ReferenceId)) edges.push({ from: at.get(s.ReferenceId), to: at.get(e.ReferenceId), edge: e });
    }
  }
  return { nodes, edges, height };
}

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
