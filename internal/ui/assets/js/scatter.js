// The duration-over-time scatter of search results, drawn with Apache
// ECharts (charts.js). Tooltips are DOM nodes built with textContent:
// ECharts never receives an HTML string made from data.
import { h } from './dom.js';
import { formatDuration, formatTime, formatMs, plural, timeAxisLabel } from './format.js';
import { ERROR_COLOR } from './colors.js';
import { loadECharts, tooltip, AXIS_LABEL, SPLIT_LINE } from './charts.js';

export class Scatter {
  /** el: the chart container; onOpen(summary) is called when a point is clicked. */
  constructor(el, { onOpen, onHover } = {}) {
    this.el = el;
    this.onOpen = onOpen;
    this.onHover = onHover;
    this.chart = null;
    this.series = [[], []]; // summaries by series index: ok, error
    this.disposed = false;
    this.ro = null;
    this.log = false;
  }

  /** setLog switches the duration axis between linear and logarithmic. */
  setLog(log) {
    this.log = log;
    if (this.chart) this.chart.setOption({ yAxis: this.yAxis() });
  }

  yAxis() {
    return {
      type: this.log ? 'log' : 'value', min: this.log ? undefined : 0, logBase: 10,
      axisLabel: { ...AXIS_LABEL, formatter: formatMs },
      splitLine: SPLIT_LINE,
    };
  }

  /** setData draws summaries over the time range [startMs, endMs]. */
  async setData(summaries, startMs, endMs) {
    const echarts = await loadECharts();
    if (this.disposed) return;
    if (!this.chart) {
      this.chart = echarts.init(this.el, null, { renderer: 'canvas' });
      this.chart.on('click', (p) => {
        const s = this.series[p.seriesIndex] && this.series[p.seriesIndex][p.dataIndex];
        if (s && this.onOpen) this.onOpen(s);
      });
      this.chart.on('mouseover', (p) => {
        const s = this.series[p.seriesIndex] && this.series[p.seriesIndex][p.dataIndex];
        if (s && this.onHover) this.onHover(s.traceID);
      });
      this.chart.on('mouseout', () => this.onHover && this.onHover(null));
      this.ro = new ResizeObserver(() => this.chart && this.chart.resize());
      this.ro.observe(this.el);
    }
    const ok = [];
    const bad = [];
    const okPts = [];
    const badPts = [];
    let maxSpans = 1;
    for (const s of summaries) maxSpans = Math.max(maxSpans, s.spanCount || 0);
    const size = (n) => 7 + 11 * Math.sqrt((n || 1) / maxSpans);
    for (const s of summaries) {
      // ms on the y axis; never 0, so that a log axis can show it.
      const point = { value: [s.start / 1000, Math.max(s.duration / 1000, 0.001)], symbolSize: size(s.spanCount) };
      if (s.errorCount > 0) bad.push(s);
      else ok.push(s);
      (s.errorCount > 0 ? badPts : okPts).push(point);
    }
    this.series = [ok, bad];
    this.el.dataset.points = String(summaries.length);

    this.chart.setOption({
      animation: false,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      grid: { left: 64, right: 20, top: 28, bottom: 28 },
      legend: {
        top: 0, right: 12, itemWidth: 10, itemHeight: 10, icon: 'circle',
        textStyle: { color: '#5b6472', fontSize: 11 },
        data: ['Traces', 'With errors'],
      },
      tooltip: tooltip('item', (p) => this.tooltip(p)),
      xAxis: {
        type: 'time', min: startMs, max: endMs,
        axisLine: { lineStyle: { color: '#c9ced6' } },
        axisLabel: { ...AXIS_LABEL, hideOverlap: true, formatter: timeAxisLabel(endMs - startMs) },
        splitLine: { show: false },
      },
      yAxis: this.yAxis(),
      series: [
        { name: 'Traces', type: 'scatter', data: okPts, itemStyle: { color: '#3b7dd8', opacity: 0.8 }, emphasis: { scale: 1.4, itemStyle: { opacity: 1, borderColor: '#1d2530', borderWidth: 1 } }, cursor: 'pointer' },
        { name: 'With errors', type: 'scatter', data: badPts, itemStyle: { color: ERROR_COLOR, opacity: 0.85 }, emphasis: { scale: 1.4, itemStyle: { opacity: 1, borderColor: '#1d2530', borderWidth: 1 } }, cursor: 'pointer' },
      ],
    }, { notMerge: true });
  }

  tooltip(p) {
    const s = this.series[p.seriesIndex] && this.series[p.seriesIndex][p.dataIndex];
    if (!s) return null;
    return h('div', { class: 'tt' },
      h('div', { class: 'tt-title' }, `${s.rootService || '?'}: ${s.rootName || '?'}`),
      h('div', null, h('b', null, formatDuration(s.duration)), ' · ', plural(s.spanCount || 0, 'span'),
        s.errorCount ? h('span', { class: 'tt-err' }, ' · ', plural(s.errorCount, 'error')) : null),
      h('div', { class: 'tt-time' }, formatTime(s.start)));
  }

  /** highlight emphasises the point of a trace (from hovering the list), or none. */
  highlight(traceID) {
    if (!this.chart) return;
    this.chart.dispatchAction({ type: 'downplay' });
    if (!traceID) return;
    for (let si = 0; si < 2; si++) {
      const di = this.series[si].findIndex((s) => s.traceID === traceID);
      if (di >= 0) this.chart.dispatchAction({ type: 'highlight', seriesIndex: si, dataIndex: di });
    }
  }

  dispose() {
    this.disposed = true;
    if (this.ro) this.ro.disconnect();
    if (this.chart) this.chart.dispose();
    this.chart = null;
  }
}
