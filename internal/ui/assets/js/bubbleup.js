// BubbleUp's answer: how the selected events differ from the rest of the
// query's events (the baseline), a card per field with two bars per value.
// Plain DOM rather than charts, so every value keeps a readable label
// whatever the server returns: many values, long ones, numeric ranges.
import { h } from './dom.js';
import { columnFormat, formatCount, formatMs, plural } from './format.js';
import { isDurationField } from './hcquery.js';

const MAX_VALUES = 8; // per field; the others are counted below the bars

/**
 * renderBubbleUp builds the view of a BubbleUp result res for a selection described by
 * label. At most maxFields fields are shown, most different first. onFilter(field, value)
 * is called when a value of a field that is not numeric is clicked.
 */
export function renderBubbleUp(res, { label, maxFields, onFilter }) {
  const head = h('div', { class: 'bu-head' },
    h('span', { class: 'bu-key' }, h('span', { class: 'bu-swatch sel' }), h('b', null, 'Selection'),
      ` ${label} · ${plural(Math.round(res.selected), 'event')}`),
    h('span', { class: 'bu-key', title: 'The query\'s other events' }, h('span', { class: 'bu-swatch base' }), h('b', null, 'Baseline'),
      ` · ${plural(Math.round(res.baseline), 'event')}`));
  const cards = (res.fields || []).slice(0, maxFields).map((f) => fieldCard(f, onFilter));
  return h('div', { class: 'bu' }, head, res.selected ? h('div', { class: 'bu-grid' }, cards) : null);
}

function fieldCard(f, onFilter) {
  const values = f.values || [];
  // Keep the values that weigh most in either set, in the server's order.
  const kept = new Set([...values].sort((a, b) => Math.max(b.selected, b.baseline) - Math.max(a.selected, a.baseline)).slice(0, MAX_VALUES));
  const shown = values.filter((v) => kept.has(v));
  const fmt = isDurationField(f.field) ? formatMs : columnFormat(values.flatMap((v) => [v.lower, v.upper]));
  const labelOf = (v) => (f.numeric && v.lower != null ? `${fmt(v.lower)} – ${fmt(v.upper)}` : v.value === '' ? '(empty)' : String(v.value));
  return h('div', { class: 'bu-card', dataset: { field: f.field } },
    h('div', { class: 'bu-title' }, h('span', { class: 'mono' }, f.field),
      h('span', { class: 'muted small' }, `${Math.round(f.score * 100)}% different`)),
    h('ul', { class: 'bu-values' }, shown.map((v) => {
      const text = labelOf(v);
      const title = `${text}: ${percent(v.selected)} of the selection, ${percent(v.baseline)} of the baseline`;
      const bars = [
        h('span', { class: 'bu-label', title }, text),
        h('span', { class: 'bu-bars', 'aria-hidden': 'true' },
          h('span', { class: 'bu-bar sel', style: { width: `${v.selected * 100}%` } }),
          h('span', { class: 'bu-bar base', style: { width: `${v.baseline * 100}%` } })),
        h('span', { class: 'bu-pct' }, h('span', { class: 'sel' }, percent(v.selected)), h('span', { class: 'base' }, percent(v.baseline))),
      ];
      return h('li', null, f.numeric
        ? h('div', { class: 'bu-row' }, bars)
        : h('button', { type: 'button', class: 'bu-row', title: `Add ${f.field} = ${text} to WHERE`, onClick: () => onFilter(f.field, v.value) }, bars));
    })),
    values.length > shown.length ? h('div', { class: 'muted small bu-more' }, `${formatCount(values.length - shown.length)} more ${values.length - shown.length === 1 ? 'value' : 'values'}, each less common`) : null);
}

function percent(share) {
  if (share > 0 && share < 0.01) return '<1%';
  return `${Math.round(share * 100)}%`;
}
