// Small shared pieces of UI.
import { h } from './dom.js';
import { plural, formatCount } from './format.js';
import { serviceColor } from './colors.js';

/** serviceChip is a coloured "service count" chip. */
export function serviceChip(name, count) {
  return h('span', { class: 'chip', title: `${name}: ${plural(count || 0, 'span')}`, style: { '--c': serviceColor(name) } },
    h('span', { class: 'chip-dot' }), h('span', { class: 'chip-name' }, name), count != null ? h('span', { class: 'chip-count' }, formatCount(count)) : null);
}
