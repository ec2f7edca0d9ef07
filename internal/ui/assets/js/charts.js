// Apache ECharts and what every chart shares. ECharts (1 MB) is loaded on
// first use, so the trace page never pays for it.
//
// The Content-Security-Policy allows no inline style attributes, and the
// tooltip markup ECharts writes itself is made of them: every tooltip here is
// DOM built by its formatter with h() (classes from app.css, colours set
// through CSSOM, which the policy allows), and ECharts only places it.
import { h } from './dom.js';

let echartsPromise = null;

/** loadECharts adds the vendored echarts.min.js once and resolves to window.echarts. */
export function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!echartsPromise) {
    echartsPromise = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      // Relative to this module, so it carries the same version prefix.
      s.src = new URL('../vendor/echarts.min.js', import.meta.url).href;
      s.async = true;
      s.onload = () => (window.echarts ? resolve(window.echarts) : reject(new Error('echarts did not load')));
      s.onerror = () => {
        echartsPromise = null;
        reject(new Error('Could not load the chart library'));
      };
      document.head.appendChild(s);
    });
  }
  return echartsPromise;
}

export const AXIS_LABEL = { color: '#5b6472', fontSize: 11 };
export const SPLIT_LINE = { lineStyle: { color: '#eef0f3' } };

/**
 * tooltip returns the tooltip options of a chart: trigger 'item' or 'axis', and format,
 * which turns ECharts' params into the tooltip's DOM element (or null for none).
 */
export function tooltip(trigger, format) {
  return {
    trigger, confine: true, transitionDuration: 0, className: 'chart-tt',
    backgroundColor: '#fff', borderColor: '#d9dde3', padding: [6, 8], textStyle: { color: '#1d2530', fontSize: 12 },
    formatter: (p) => format(p) || '',
  };
}

/** swatch is a small square of colour, as in a legend. */
export function swatch(color) {
  return h('span', { class: 'tt-swatch', style: { background: color } });
}

/**
 * seriesRows is the body of an axis tooltip: a title, then one line per series
 * (colour, name, value as fmt renders it), largest value first.
 */
export function seriesRows(title, params, fmt) {
  const rows = [...params].filter((p) => p.value != null).sort((a, b) => value(b) - value(a));
  return h('div', { class: 'tt' },
    h('div', { class: 'tt-title' }, title),
    h('table', { class: 'tt-rows' }, h('tbody', null, rows.map((p) => h('tr', null,
      h('td', null, swatch(p.color)), h('td', { class: 'tt-name' }, p.seriesName), h('td', { class: 'tt-num' }, fmt(value(p))))))));
}

function value(p) {
  return Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value;
}
