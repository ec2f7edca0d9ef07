// The span detail panel: every tag, the process (resource) tags, every log
// with its fields, every reference, and warnings. All values are text.
import { h } from './dom.js';
import { formatDuration, formatTime, plural } from './format.js';
import { serviceColor } from './colors.js';
import { tagValue, valueText, descendantCount, serviceName } from './tracemodel.js';

/**
 * renderSpanDetail builds the panel for span i. onGoto(span) selects another
 * span of this trace; onClose closes the panel.
 */
export function renderSpanDetail(model, i, { onGoto, onClose }) {
  const s = model.spans[i];
  const svc = serviceName(model, i);
  const proc = model.processes[s.processID] || s.process || {};
  const rel = model.start[i] - model.traceStart;
  const kind = tagValue(s.tags, 'span.kind');
  const isError = model.error[i] === 1;
  const parent = model.parent[i];

  const facts = [
    ['Duration', formatDuration(model.dur[i]), model.duration ? `${percent(model.dur[i] / model.duration)} of trace` : null],
    ['Start', `+${formatDuration(rel)}`, formatTime(model.start[i])],
    ['Span ID', mono(s.spanID)],
    ['Parent', parent >= 0
      ? spanButton(model, parent, onGoto)
      : model.missingParent[i] !== null
        ? h('span', { class: 'warn-text' }, mono(model.missingParent[i]), ' (not in this trace)')
        : h('span', { class: 'muted' }, 'none (root)')],
    ['Depth', String(model.depth[i]), `${plural(model.childCount[i], 'child', 'children')}, ${plural(descendantCount(model, i), 'descendant')}`],
  ];
  if (kind !== undefined) facts.splice(2, 0, ['Kind', valueText(kind)]);

  const logs = Array.isArray(s.logs) ? s.logs : [];
  const refs = Array.isArray(s.references) ? s.references : [];
  const warnings = Array.isArray(s.warnings) ? s.warnings.filter((w) => w != null) : [];

  return h('div', { class: 'detail', dataset: { spanId: String(s.spanID || '') } },
    h('div', { class: 'detail-head' },
      h('div', { class: 'detail-svc' }, h('span', { class: 'swatch', style: { background: serviceColor(svc) } }), svc),
      h('button', { type: 'button', class: 'icon-btn detail-close', 'aria-label': 'Close span detail', title: 'Close (Esc)', onClick: onClose }, '×'),
      h('h2', { class: 'detail-op' }, s.operationName || '(no name)'),
      isError ? h('span', { class: 'badge badge-error' }, 'error') : null,
      model.missingParent[i] !== null ? h('span', { class: 'badge badge-warn' }, 'parent missing') : null),
    h('dl', { class: 'facts' }, facts.map(([k, v, sub]) => [
      h('dt', null, k),
      h('dd', null, v, sub ? h('div', { class: 'muted small' }, sub) : null),
    ])),
    section('Tags', s.tags, kvTable(s.tags), 'tags'),
    section('Events', logs, logs.length ? h('ol', { class: 'events' }, logs.map((l) => logItem(model, i, l))) : null, 'logs'),
    section(`Process · ${svc}`, proc.tags, kvTable(proc.tags), 'process'),
    section('References', refs, refs.length ? h('ul', { class: 'refs' }, refs.map((r) => refItem(model, r, onGoto))) : null, 'refs'),
    warnings.length ? section('Warnings', warnings, h('ul', { class: 'warnings' }, warnings.map((w) => h('li', null, valueText(w)))), 'warnings') : null);
}

function section(title, items, body, key) {
  const n = Array.isArray(items) ? items.length : 0;
  return h('details', { class: n ? 'detail-section' : 'detail-section is-empty', open: n > 0, dataset: { section: key } },
    h('summary', null, title, h('span', { class: 'count' }, String(n))),
    body || h('div', { class: 'muted small pad' }, 'None'));
}

/** kvTable renders Jaeger key/value tags as a two-column table of text. */
export function kvTable(tags) {
  if (!Array.isArray(tags) || !tags.length) return null;
  return h('table', { class: 'kv' }, h('tbody', null, tags.map((t) => {
    if (!t || typeof t !== 'object') return null;
    const type = t.type ? String(t.type) : typeof t.value;
    return h('tr', null,
      h('th', { class: 'kv-key', scope: 'row' }, breakable(String(t.key))),
      h('td', { class: `kv-value type-${cssToken(type)}` }, valueText(t.value)));
  })));
}

function logItem(model, i, log) {
  const ts = Number(log.timestamp);
  return h('li', { class: 'event' },
    h('div', { class: 'event-time' },
      h('span', { class: 'mono' }, `+${formatDuration(ts - model.start[i])}`),
      h('span', { class: 'muted small' }, ` from span start · ${formatTime(ts)}`)),
    kvTable(log.fields) || h('div', { class: 'muted small' }, 'no fields'));
}

function refItem(model, ref, onGoto) {
  const traceID = String(ref.traceID || model.traceID);
  const spanID = String(ref.spanID || '');
  const type = String(ref.refType || 'reference');
  let target;
  if (traceID === model.traceID) {
    const j = model.byID.get(spanID);
    target = j !== undefined ? spanButton(model, j, onGoto) : h('span', null, mono(spanID), h('span', { class: 'muted' }, ' (not in this trace)'));
  } else {
    target = h('a', { href: `/trace/${encodeURIComponent(traceID)}?span=${encodeURIComponent(spanID)}`, 'data-nav': true, class: 'mono' },
      `${traceID.slice(0, 16)}${traceID.length > 16 ? '…' : ''} / ${spanID}`);
  }
  return h('li', null, h('span', { class: 'ref-type' }, type), target);
}

function spanButton(model, j, onGoto) {
  const s = model.spans[j];
  return h('button', { type: 'button', class: 'link-btn', onClick: () => onGoto(j), title: `Go to span ${s.spanID}` },
    h('span', { class: 'swatch', style: { background: serviceColor(serviceName(model, j)) } }),
    `${serviceName(model, j)}: ${s.operationName || ''}`, h('span', { class: 'muted mono' }, ` ${s.spanID}`));
}

// breakable lets a dotted key (telemetry.sdk.language) wrap after its dots.
function breakable(key) {
  const parts = key.split('.');
  const out = [];
  parts.forEach((p, k) => {
    out.push(k < parts.length - 1 ? `${p}.` : p);
    if (k < parts.length - 1) out.push(h('wbr'));
  });
  return out;
}

function percent(f) {
  if (f > 0 && f < 0.001) return '<0.1%';
  return `${(f * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

function mono(s) {
  return h('span', { class: 'mono' }, String(s == null ? '' : s));
}

function cssToken(s) {
  return String(s).toLowerCase().replace(/[^a-z0-9]/g, '') || 'unknown';
}
