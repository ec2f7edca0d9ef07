// The trace model behind the waterfall, built from the Jaeger JSON of one
// trace in O(n) after one sort by start time, with the hot per-span numbers
// in typed arrays. Pure (no DOM), tested by jstest/.
//
// Parent: a span's first CHILD_OF reference to a span of the same trace,
// else its first FOLLOWS_FROM one. A span whose parent is not in the trace is
// an orphan and sits at the top level; so does one span of every reference
// cycle, which is broken where it starts earliest. Children are ordered by
// start time.

/** tagValue returns the value of the first tag with key, or undefined. */
export function tagValue(tags, key) {
  if (!Array.isArray(tags)) return undefined;
  for (const t of tags) if (t && t.key === key) return t.value;
  return undefined;
}

/** isErrorSpan reports the error tag (error=true), or an OpenTelemetry ERROR status. */
export function isErrorSpan(span) {
  const tags = span.tags;
  if (!Array.isArray(tags)) return false;
  for (const t of tags) {
    if (!t) continue;
    if (t.key === 'error' && (t.value === true || t.value === 'true')) return true;
    if (t.key === 'otel.status_code' && t.value === 'ERROR') return true;
  }
  return false;
}

/**
 * isInProgress reports a span whose end is not known yet (an X-Ray segment begun and never
 * ended): lookout's API says so in the span's warnings.
 */
export function isInProgress(span) {
  return Array.isArray(span.warnings) && span.warnings.some((w) => typeof w === 'string' && w.startsWith('span is in progress'));
}

/** buildTraceModel turns one Jaeger trace object into the waterfall's model. */
export function buildTraceModel(trace) {
  const raw = Array.isArray(trace.spans) ? trace.spans.filter((s) => s && typeof s === 'object') : [];
  const processes = trace.processes && typeof trace.processes === 'object' ? trace.processes : {};
  const n = raw.length;
  const traceID = String(trace.traceID || (raw[0] && raw[0].traceID) || '');

  // Sort by start time (stable on input order) so that every list built in
  // input order below is in start order.
  const idx = new Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const st = raw.map((s) => num(s.startTime));
  idx.sort((a, b) => st[a] - st[b] || a - b);
  const spans = idx.map((i) => raw[i]);

  const start = new Float64Array(n);
  const dur = new Float64Array(n);
  const error = new Uint8Array(n);
  const svc = new Int32Array(n);
  const serviceIndex = new Map();
  const services = [];
  const byID = new Map();
  let tStart = Infinity;
  let tEnd = -Infinity;
  let errorCount = 0;
  let duplicateIDs = 0;

  for (let i = 0; i < n; i++) {
    const s = spans[i];
    start[i] = num(s.startTime);
    dur[i] = Math.max(0, num(s.duration));
    if (start[i] < tStart) tStart = start[i];
    if (start[i] + dur[i] > tEnd) tEnd = start[i] + dur[i];
    const p = processes[s.processID] || s.process || null;
    const name = p && p.serviceName != null ? String(p.serviceName) : 'unknown';
    let si = serviceIndex.get(name);
    if (si === undefined) {
      si = services.length;
      serviceIndex.set(name, si);
      services.push({ name, spanCount: 0, errorCount: 0 });
    }
    svc[i] = si;
    services[si].spanCount++;
    if (isErrorSpan(s)) {
      error[i] = 1;
      errorCount++;
      services[si].errorCount++;
    }
    const id = String(s.spanID || '');
    if (byID.has(id)) duplicateIDs++;
    else byID.set(id, i);
  }
  if (n === 0) tStart = tEnd = 0;

  // Parents.
  const parent = new Int32Array(n).fill(-1);
  const missingParent = new Array(n).fill(null); // spanID of a parent not in the trace
  for (let i = 0; i < n; i++) {
    const refs = spans[i].references;
    if (!Array.isArray(refs) || refs.length === 0) continue;
    let ref = null;
    for (const r of refs) {
      if (r && r.refType === 'CHILD_OF' && sameTrace(r, traceID)) { ref = r; break; }
    }
    if (!ref) {
      for (const r of refs) {
        if (r && r.refType === 'FOLLOWS_FROM' && sameTrace(r, traceID)) { ref = r; break; }
      }
    }
    if (!ref) continue;
    const p = byID.get(String(ref.spanID));
    if (p === undefined) missingParent[i] = String(ref.spanID);
    else if (p !== i) parent[i] = p;
  }

  // Break reference cycles: each span has at most one parent, so following
  // parents from each unvisited span visits every span once.
  const stamp = new Int32Array(n);
  let cycles = 0;
  for (let i = 0; i < n; i++) {
    if (stamp[i]) continue;
    let x = i;
    while (x !== -1 && stamp[x] === 0) {
      stamp[x] = i + 1;
      x = parent[x];
    }
    if (x !== -1 && stamp[x] === i + 1) {
      // x is on a new cycle; make its earliest span (lowest index) a root.
      let root = x;
      for (let y = parent[x]; y !== x; y = parent[y]) if (y < root) root = y;
      parent[root] = -1;
      cycles++;
    }
  }

  // Children as linked lists, appended in start order.
  const firstChild = new Int32Array(n).fill(-1);
  const lastChild = new Int32Array(n).fill(-1);
  const nextSibling = new Int32Array(n).fill(-1);
  const childCount = new Int32Array(n);
  const roots = [];
  for (let i = 0; i < n; i++) {
    const p = parent[i];
    if (p === -1) {
      roots.push(i);
      continue;
    }
    if (lastChild[p] === -1) firstChild[p] = i;
    else nextSibling[lastChild[p]] = i;
    lastChild[p] = i;
    childCount[p]++;
  }

  // Pre-order walk without a stack: down to the first child, else across to
  // the next sibling, else up until a sibling exists. subtreeEnd[pos] is the
  // position just after the subtree that starts at pos.
  const order = new Int32Array(n);
  const posOf = new Int32Array(n);
  const depth = new Int32Array(n);
  const subtreeEnd = new Int32Array(n);
  let pos = 0;
  let maxDepth = 0;
  for (const r of roots) {
    let x = r;
    depth[r] = 0;
    for (;;) {
      order[pos] = x;
      posOf[x] = pos;
      if (parent[x] !== -1) depth[x] = depth[parent[x]] + 1;
      if (depth[x] > maxDepth) maxDepth = depth[x];
      pos++;
      if (firstChild[x] !== -1) {
        x = firstChild[x];
        continue;
      }
      let next = -1;
      for (;;) {
        subtreeEnd[posOf[x]] = pos;
        if (x === r) break;
        if (nextSibling[x] !== -1) {
          next = nextSibling[x];
          break;
        }
        x = parent[x];
      }
      if (next === -1) break;
      x = next;
    }
  }

  // Errors in each subtree (a span and its descendants), children before parents.
  const subtreeErrors = new Int32Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const x = order[k];
    subtreeErrors[x] += error[x];
    if (parent[x] !== -1) subtreeErrors[parent[x]] += subtreeErrors[x];
  }

  let orphans = 0;
  for (let i = 0; i < n; i++) if (missingParent[i] !== null) orphans++;

  // The root span of the trace: the earliest span without a parent reference,
  // else the earliest top-level span.
  let root = -1;
  for (const r of roots) {
    if (missingParent[r] === null) { root = r; break; }
  }
  if (root === -1 && roots.length) root = roots[0];

  const servicesByCount = services
    .map((s, i) => ({ ...s, index: i }))
    .sort((a, b) => b.spanCount - a.spanCount || a.name.localeCompare(b.name));

  return {
    traceID, spans, processes, n,
    start, dur, error, svc, services, servicesByCount,
    parent, missingParent, childCount, order, posOf, depth, subtreeEnd, roots, subtreeErrors,
    byID, root, maxDepth, errorCount, orphans, cycles, duplicateIDs,
    traceStart: tStart, traceEnd: tEnd, duration: Math.max(0, tEnd - tStart),
  };
}

function sameTrace(ref, traceID) {
  return !ref.traceID || !traceID || String(ref.traceID) === traceID;
}

function num(v) {
  const x = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(x) ? x : 0;
}

/** serviceName returns the service of span i. */
export function serviceName(model, i) {
  return model.services[model.svc[i]].name;
}

/**
 * visibleRows lists, in pre-order, the spans not hidden inside a collapsed
 * subtree. collapsed is indexed by span. O(visible rows + collapsed subtrees).
 */
export function visibleRows(model, collapsed) {
  const { order, subtreeEnd, n } = model;
  const out = new Int32Array(n);
  let k = 0;
  for (let pos = 0; pos < n;) {
    const i = order[pos];
    out[k++] = i;
    pos = collapsed[i] ? subtreeEnd[pos] : pos + 1;
  }
  return out.subarray(0, k);
}

/** descendantCount is the number of spans below span i. */
export function descendantCount(model, i) {
  const pos = model.posOf[i];
  return model.subtreeEnd[pos] - pos - 1;
}

/**
 * searchText is the lower-case text that search-within-trace matches for
 * span i: service, operation, IDs, "key=value" for tags, process tags and
 * log fields. Built on first use and cached on the model.
 */
export function searchText(model, i) {
  if (!model.searchCache) model.searchCache = new Array(model.n);
  let t = model.searchCache[i];
  if (t !== undefined) return t;
  const s = model.spans[i];
  const parts = [serviceName(model, i), String(s.operationName || ''), String(s.spanID || '')];
  kv(parts, s.tags);
  if (Array.isArray(s.logs)) for (const l of s.logs) if (l) kv(parts, l.fields);
  const p = model.processes[s.processID];
  if (p) kv(parts, p.tags);
  t = parts.join('\n').toLowerCase();
  model.searchCache[i] = t;
  return t;
}

function kv(parts, tags) {
  if (!Array.isArray(tags)) return;
  for (const t of tags) if (t) parts.push(`${t.key}=${valueText(t.value)}`);
}

/** valueText renders a tag value as text: strings as they are, anything else as JSON. */
export function valueText(v) {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/**
 * findSpans returns, in pre-order, the spans whose searchText contains every
 * whitespace-separated term of query (case-insensitive).
 */
export function findSpans(model, query) {
  const terms = String(query || '').toLowerCase().split(/\s+/).filter(Boolean);
  if (!terms.length) return [];
  const out = [];
  for (let pos = 0; pos < model.n; pos++) {
    const i = model.order[pos];
    const t = searchText(model, i);
    let ok = true;
    for (const term of terms) {
      if (!t.includes(term)) { ok = false; break; }
    }
    if (ok) out.push(i);
  }
  return out;
}
