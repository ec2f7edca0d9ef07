// Pieces the error pages share: level and status badges, occurrence counts drawn as SVG (a
// sparkline for a list row, bars for an item's graph), and the trace page's links to the
// error items of its trace and of each span. Data becomes text or SVG attributes only.
import { h } from './dom.js';
import { formatCount } from './format.js';
import { getJSON } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const k in attrs) el.setAttribute(k, String(attrs[k]));
  for (const c of children) if (c) el.appendChild(c);
  return el;
}

/** levelBadge shows a Rollbar level: critical, error, warning, info or debug. */
export function levelBadge(level) {
  return h('span', { class: `lvl lvl-${/^(critical|error|warning|info|debug)$/.test(level) ? level : 'other'}` }, level || '—');
}

/** statusBadge shows an item's status. */
export function statusBadge(status) {
  return h('span', { class: `st st-${status === 'resolved' || status === 'muted' ? status : 'active'}` }, status);
}

/**
 * sparkline draws counts (oldest first) as a small line; label(total, n) names what the n
 * counts are, by default an item's occurrences by the hour, with their sum.
 */
export function sparkline(counts, width = 120, height = 22, label = (total, n) => `${formatCount(total)} occurrences in the last ${n} hours`) {
  const c = Array.isArray(counts) && counts.length ? counts : [0];
  const peak = Math.max(1, ...c);
  const step = c.length > 1 ? width / (c.length - 1) : width;
  const pts = c.map((n, i) => `${(i * step).toFixed(1)},${(height - 2 - (n / peak) * (height - 4)).toFixed(1)}`).join(' ');
  const total = c.reduce((a, b) => a + b, 0);
  const el = svg('svg', { class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' },
    svg('polyline', { points: pts, fill: 'none' }));
  el.setAttribute('aria-label', label(total, c.length));
  return el;
}

/** bars draws counts (oldest first) as a bar chart; label(i) names bucket i in tooltips. */
export function bars(counts, label, width = 720, height = 90) {
  const c = Array.isArray(counts) && counts.length ? counts : [0];
  const peak = Math.max(1, ...c);
  const w = width / c.length;
  const el = svg('svg', { class: 'occ-bars', width: '100%', height, viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img' });
  c.forEach((n, i) => {
    const bh = n ? Math.max(2, (n / peak) * (height - 4)) : 0;
    const title = svg('title', {});
    title.textContent = `${label(i)}: ${formatCount(n)}`;
    el.appendChild(svg('rect', { x: (i * w + 1).toFixed(1), y: (height - bh).toFixed(1), width: Math.max(1, w - 2).toFixed(1), height: bh.toFixed(1) }, title));
  });
  el.setAttribute('aria-label', `occurrences, peak ${formatCount(peak)}`);
  return el;
}

/**
 * loadTraceErrorItems returns the error items with an occurrence in trace traceID, each with
 * spans: the ids of the spans its occurrences there carry. It resolves to [] when there are
 * none, or the store keeps no error items: the trace page stands without them.
 */
export async function loadTraceErrorItems(traceID, signal) {
  const none = (err) => {
    if (err.name === 'AbortError') throw err;
    return [];
  };
  const items = await getJSON('/api/v1/errors/items', new URLSearchParams({ traceID, limit: '20' }), signal).catch(none);
  if (!Array.isArray(items)) return [];
  await Promise.all(items.map(async (it) => {
    const occs = await getJSON(`/api/v1/errors/items/${encodeURIComponent(it.id)}/occurrences`, new URLSearchParams({ traceID, limit: '100' }), signal)
      .catch(none);
    it.spans = Array.isArray(occs) ? occs.map((o) => o.spanID).filter(Boolean) : [];
  }));
  return items;
}

function itemLink(it) {
  return h('a', { href: `/errors/${encodeURIComponent(it.id)}`, 'data-nav': true, class: 'trace-error' }, levelBadge(it.level), ` #${it.counter} ${it.title}`);
}

/** renderTraceErrorItems links the trace's error items, for the trace page's header; null when there are none. */
export function renderTraceErrorItems(items) {
  if (!items.length) return null;
  return h('div', { class: 'trace-errors' }, h('span', { class: 'muted' }, 'Error items reported in this trace: '), items.map(itemLink));
}

/** renderSpanErrorItems is the span detail's section of the error items that span reported. */
export function renderSpanErrorItems(items, spanID) {
  return h('details', { class: 'detail-section', open: true, dataset: { section: 'span-errors' } },
    h('summary', null, 'Error items', h('span', { class: 'count' }, String(items.length))),
    h('ul', { class: 'span-errors' }, items.map((it) => {
      const n = it.spans.filter((id) => id === spanID).length;
      return h('li', null, itemLink(it), n > 1 ? h('span', { class: 'muted small' }, ` · ${formatCount(n)} times in this span`) : null);
    })));
}
