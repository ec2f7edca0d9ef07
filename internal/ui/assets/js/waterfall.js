// The trace waterfall: a virtualised tree of span rows over a time axis.
//
// Only the rows in view (plus a few above and below) exist in the DOM; they
// sit absolutely positioned in a canvas as tall as all visible rows and are
// recycled as the view scrolls. A frame reads scrollTop once, then only
// writes, so there is no per-row layout. Collapsing recomputes the list of
// visible rows in O(n) over typed arrays.
import { h, setText } from './dom.js';
import { formatDuration, formatCount, niceTicks, plural } from './format.js';
import { serviceColor } from './colors.js';
import { visibleRows, descendantCount, isInProgress } from './tracemodel.js';

export const ROW_HEIGHT = 24;
const OVERSCAN = 10;
const INDENT = 14;
const MAX_INDENT = 32; // levels; deeper spans stop moving right (the detail shows the depth)
const MARK_GAP = 1.2; // % of the track: marks closer than this to a cluster's first join it
const TIP_LINES = 8; // lines a mark's tooltip lists before "and N more"

/**
 * clusterMarks places a row's marks ({t, …} sorted by t, µs from the trace start) on the
 * window [view0, view1] of a trace lasting full: a list of {left (% of the track), marks},
 * each gathering the marks within gap % of its first. Marks outside the window are left out,
 * except those outside the whole trace (a clock apart), which sit at its edge with outside set.
 */
export function clusterMarks(marks, view0, view1, full, gap = MARK_GAP) {
  const span = view1 - view0 || 1;
  const out = [];
  for (const mk of marks) {
    let left = ((mk.t - view0) / span) * 100;
    let outside = false;
    if (mk.t < 0 && view0 <= 0) [left, outside] = [0, true];
    else if (mk.t > full && view1 >= full) [left, outside] = [100, true];
    else if (left < 0 || left > 100) continue;
    const last = out[out.length - 1];
    if (last && left - last.left < gap) {
      last.marks.push(mk);
      last.outside ||= outside;
    } else {
      out.push({ left, marks: [mk], outside });
    }
  }
  return out;
}

export class Waterfall {
  /**
   * model: from buildTraceModel. onCursor(span, how) is called when the
   * cursor row changes (how: 'click' | 'key' | 'api'); onActivate(span) on
   * Enter or Space; onMark(span) when a mark on its row is clicked (after
   * onCursor).
   */
  constructor(model, { onCursor, onActivate, onZoom, onMark } = {}) {
    this.m = model;
    this.onCursor = onCursor || (() => {});
    this.onActivate = onActivate || (() => {});
    this.onZoom = onZoom || (() => {});
    this.onMark = onMark || (() => {});
    this.marks = new Map(); // span -> its marks on the timeline, by time
    this.items = new Map(); // span -> the titles of the error items it reported
    this.view0 = 0; // the time window shown, in µs from the trace start
    this.view1 = model.duration || 1;
    this.collapsed = new Uint8Array(model.n);
    this.rowOf = new Int32Array(model.n);
    this.rows = new Int32Array(0);
    this.cursor = -1;
    this.matches = null; // Uint8Array by span, or null
    this.current = -1; // the current find match
    this.colors = model.services.map((s) => serviceColor(s.name));
    this.version = 1; // bumped whenever row content may change
    this.active = new Map(); // visible index -> row
    this.free = [];
    this.viewH = 0;
    this.raf = 0;
    this.build();
    this.recompute();
  }

  build() {
    const labelName = h('div', { class: 'wf-head-name' },
      h('span', null, 'Service & operation'),
      this.resizer = h('div', { class: 'wf-resizer', title: 'Drag to resize', 'aria-hidden': 'true' }));
    this.track = h('div', { class: 'wf-track' });
    this.zoomSel = h('div', { class: 'wf-zoomsel', hidden: true });
    this.headTime = h('div', { class: 'wf-head-time', title: 'Drag to zoom into a time range; double-click to reset' },
      this.track, h('div', { class: 'wf-track' }, this.zoomSel));
    this.head = h('div', { class: 'wf-head' }, labelName, this.headTime);
    this.gridLines = h('div', { class: 'wf-grid-lines' });
    this.grid = h('div', { class: 'wf-grid', 'aria-hidden': 'true' }, this.gridLines);
    this.canvas = h('div', { class: 'wf-canvas' });
    this.tip = h('div', { class: 'wf-tip', role: 'tooltip', hidden: true });
    this.scroll = h('div', { class: 'wf-scroll' }, this.grid, this.canvas);
    this.el = h('div', {
      class: 'wf', role: 'tree', tabIndex: 0, 'aria-label': 'Spans',
      dataset: { spanCount: String(this.m.n) },
    }, this.head, this.scroll, this.tip);

    this.scroll.addEventListener('scroll', () => {
      this.tip.hidden = true; // its mark moved, or went with its row
      this.schedule();
    }, { passive: true });
    this.ro = new ResizeObserver((entries) => {
      for (const e of entries) this.viewH = e.contentRect.height;
      const sbw = this.scroll.offsetWidth - this.scroll.clientWidth;
      this.el.style.setProperty('--sbw', `${sbw}px`);
      this.el.style.setProperty('--view-h', `${this.viewH}px`);
      this.schedule();
    });
    this.ro.observe(this.scroll);

    this.canvas.addEventListener('click', (e) => {
      const rowEl = e.target instanceof Element && e.target.closest('.wf-row');
      if (!rowEl) return;
      const span = Number(rowEl.dataset.idx);
      if (e.target.closest('.wf-toggle')) this.toggle(span);
      else this.setCursor(span, 'click');
      if (e.target.closest('.wf-mark')) this.onMark(span);
    });
    this.canvas.addEventListener('pointerover', (e) => {
      const mark = e.target instanceof Element && e.target.closest('.wf-mark');
      if (mark) this.showTip(mark);
    });
    this.canvas.addEventListener('pointerout', (e) => {
      if (e.target instanceof Element && e.target.closest('.wf-mark')) this.tip.hidden = true;
    });
    this.canvas.addEventListener('dblclick', (e) => {
      const rowEl = e.target instanceof Element && e.target.closest('.wf-row');
      if (rowEl && !e.target.closest('.wf-toggle')) this.toggle(Number(rowEl.dataset.idx));
    });
    this.el.addEventListener('keydown', (e) => this.onKey(e));
    this.resizer.addEventListener('pointerdown', (e) => this.startResize(e));
    this.headTime.addEventListener('pointerdown', (e) => this.startZoom(e));
    this.headTime.addEventListener('dblclick', () => this.zoom(0, this.m.duration || 1));
    this.renderAxis();
  }

  // ---- state ----

  /**
   * setMarks puts marks on the rows' timelines: marks maps a span to its marks, sorted by
   * t (µs from the trace start), each {t, text, severity, error}.
   */
  setMarks(marks) {
    this.marks = marks;
    this.redrawRows();
  }

  /** setItems flags the rows of spans that reported error items: a span -> their titles. */
  setItems(items) {
    this.items = items;
    this.redrawRows();
  }

  // redrawRows makes every row draw its span afresh on the next frame.
  redrawRows() {
    for (const row of this.active.values()) row.span = -1;
    for (const row of this.free) row.span = -1;
    this.version++;
    this.schedule();
  }

  recompute() {
    this.rows = visibleRows(this.m, this.collapsed);
    this.rowOf.fill(-1);
    for (let v = 0; v < this.rows.length; v++) this.rowOf[this.rows[v]] = v;
    this.canvas.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.el.dataset.visibleRows = String(this.rows.length);
    this.version++;
    this.schedule();
  }

  toggle(span, want) {
    if (!this.m.childCount[span]) return;
    const next = want === undefined ? !this.collapsed[span] : want;
    if (Boolean(this.collapsed[span]) === next) return;
    this.collapsed[span] = next ? 1 : 0;
    this.recompute();
  }

  collapseAll() {
    const { childCount, n } = this.m;
    for (let i = 0; i < n; i++) this.collapsed[i] = childCount[i] ? 1 : 0;
    this.recompute();
    this.scroll.scrollTop = 0;
  }

  expandAll() {
    this.collapsed.fill(0);
    this.recompute();
    if (this.cursor >= 0) this.scrollTo(this.cursor);
  }

  /** reveal expands the ancestors of span so that its row is visible. */
  reveal(span) {
    let changed = false;
    for (let p = this.m.parent[span]; p !== -1; p = this.m.parent[p]) {
      if (this.collapsed[p]) {
        this.collapsed[p] = 0;
        changed = true;
      }
    }
    if (changed) this.recompute();
  }

  setCursor(span, how = 'api') {
    if (span < 0 || span >= this.m.n) return;
    this.cursor = span;
    this.reveal(span);
    this.version++;
    this.schedule();
    if (how !== 'click') this.scrollTo(span);
    const row = this.active.get(this.rowOf[span]);
    if (row) this.el.setAttribute('aria-activedescendant', row.el.id);
    this.onCursor(span, how);
  }

  clearCursor() {
    this.cursor = -1;
    this.version++;
    this.schedule();
  }

  /** setMatches highlights the spans flagged in matches (Uint8Array by span, or null); current is the focused one. */
  setMatches(matches, current = -1) {
    this.matches = matches;
    this.current = current;
    if (current >= 0) {
      this.reveal(current);
      this.scrollTo(current);
    }
    this.version++;
    this.schedule();
  }

  /** scrollTo brings the row of span into view (centred when far away). */
  scrollTo(span) {
    const v = this.rowOf[span];
    if (v < 0) return;
    const top = this.scroll.scrollTop;
    const H = this.viewH || this.scroll.clientHeight;
    const y = v * ROW_HEIGHT;
    if (y < top + ROW_HEIGHT || y + 2 * ROW_HEIGHT > top + H) {
      const near = y >= top - H && y <= top + 2 * H;
      this.scroll.scrollTop = near
        ? (y < top + ROW_HEIGHT ? y - ROW_HEIGHT : y + 2 * ROW_HEIGHT - H)
        : y - H / 2;
    }
  }

  focus() {
    this.el.focus({ preventScroll: true });
  }

  destroy() {
    cancelAnimationFrame(this.raf);
    this.ro.disconnect();
    this.el.remove();
  }

  // ---- rendering ----

  schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => {
      this.raf = 0;
      this.render();
    });
  }

  /**
   * renderNow renders synchronously, for the first paint: from the top of the view, taken
   * as tall as the window, so that nothing forces a layout before the browser's own.
   */
  renderNow() {
    cancelAnimationFrame(this.raf);
    this.raf = 0;
    this.render(0, this.viewH || window.innerHeight);
  }

  renderAxis() {
    const v0 = this.view0;
    const span = this.view1 - this.view0 || 1;
    const ticks = niceTicks(span, 6);
    const step = ticks.length > 1 ? ticks[1] : span;
    const labels = [];
    const lines = [];
    for (let k = Math.ceil(v0 / step - 1e-9); k * step <= this.view1 + step * 1e-9; k++) {
      const t = k * step;
      const left = ((t - v0) / span) * 100;
      const label = h('span', { class: left > 92 ? 'wf-tick wf-tick-end' : left < 4 ? 'wf-tick wf-tick-start' : 'wf-tick' }, t === 0 ? '0' : formatDuration(t));
      label.style.left = `${left}%`;
      labels.push(label);
      const line = h('div', { class: 'wf-grid-line' });
      line.style.left = `${left}%`;
      lines.push(line);
    }
    this.track.replaceChildren(...labels);
    this.gridLines.replaceChildren(...lines);
  }

  /** zoom shows the time window [t0, t1] (µs from the trace start); the whole trace when it is all of it. */
  zoom(t0, t1) {
    const full = this.m.duration || 1;
    t0 = Math.max(0, Math.min(t0, full));
    t1 = Math.max(0, Math.min(t1, full));
    if (t1 - t0 < Math.max(1, full * 1e-6)) return;
    this.view0 = t0;
    this.view1 = t1;
    this.renderAxis();
    this.redrawRows();
    this.el.dataset.zoomed = String(t0 > 0 || t1 < full);
    this.onZoom(t0 > 0 || t1 < full ? [t0, t1] : null);
  }

  startZoom(e) {
    if (e.button !== 0) return;
    const track = this.zoomSel.parentElement.getBoundingClientRect();
    const frac = (x) => Math.min(1, Math.max(0, (x - track.left) / track.width));
    const a = frac(e.clientX);
    let b = a;
    this.headTime.setPointerCapture(e.pointerId);
    const draw = () => {
      this.zoomSel.hidden = false;
      this.zoomSel.style.left = `${Math.min(a, b) * 100}%`;
      this.zoomSel.style.width = `${Math.abs(b - a) * 100}%`;
    };
    const move = (ev) => {
      b = frac(ev.clientX);
      draw();
    };
    const up = () => {
      this.headTime.removeEventListener('pointermove', move);
      this.headTime.removeEventListener('pointerup', up);
      this.headTime.removeEventListener('pointercancel', up);
      this.zoomSel.hidden = true;
      if (Math.abs(b - a) * track.width < 4) return;
      const span = this.view1 - this.view0;
      this.zoom(this.view0 + Math.min(a, b) * span, this.view0 + Math.max(a, b) * span);
    };
    this.headTime.addEventListener('pointermove', move);
    this.headTime.addEventListener('pointerup', up);
    this.headTime.addEventListener('pointercancel', up);
  }

  render(top = this.scroll.scrollTop, H = this.viewH || this.scroll.clientHeight || 600) {
    const total = this.rows.length;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + H) / ROW_HEIGHT) + OVERSCAN);

    for (const [v, row] of this.active) {
      if (v < first || v >= last) {
        this.active.delete(v);
        row.el.remove();
        this.free.push(row);
      }
    }
    let frag = null;
    for (let v = first; v < last; v++) {
      let row = this.active.get(v);
      if (!row) {
        row = this.free.pop() || this.newRow();
        row.v = -1;
        this.active.set(v, row);
        if (!frag) frag = document.createDocumentFragment();
        frag.appendChild(row.el);
      }
      this.fill(row, v, this.rows[v]);
    }
    if (frag) this.canvas.appendChild(frag);
    if (this.cursor >= 0) {
      const row = this.active.get(this.rowOf[this.cursor]);
      if (row) this.el.setAttribute('aria-activedescendant', row.el.id);
      else this.el.removeAttribute('aria-activedescendant');
    }
  }

  newRow() {
    const r = {};
    r.toggle = h('span', { class: 'wf-toggle', 'aria-hidden': 'true' });
    r.swatch = h('span', { class: 'wf-swatch' });
    r.svc = h('span', { class: 'wf-svc' });
    r.op = h('span', { class: 'wf-op' });
    r.badge = h('span', { class: 'wf-badge' });
    r.err = h('span', { class: 'wf-err', title: 'Error' }, '!');
    r.items = h('span', { class: 'wf-items', hidden: true });
    r.name = h('div', { class: 'wf-name' }, r.toggle, r.swatch, r.svc, r.op, r.err, r.items, r.badge);
    r.bar = h('div', { class: 'wf-bar' });
    r.label = h('span', { class: 'wf-label' });
    r.marks = h('div', { class: 'wf-marks' });
    r.track = h('div', { class: 'wf-track' }, r.bar, r.label, r.marks);
    r.el = h('div', { class: 'wf-row', role: 'treeitem' }, r.name, h('div', { class: 'wf-time' }, r.track));
    r.span = -1;
    r.v = -1;
    r.ver = 0;
    return r;
  }

  fill(r, v, i) {
    if (r.v !== v) {
      r.el.style.transform = `translateY(${v * ROW_HEIGHT}px)`;
      r.v = v;
    }
    if (r.span === i && r.ver === this.version) return;
    const m = this.m;
    const isError = m.error[i] === 1;
    const kids = m.childCount[i];
    const collapsed = kids > 0 && this.collapsed[i] === 1;
    const match = this.matches !== null && this.matches[i] === 1;

    let cls = 'wf-row';
    if (isError) cls += ' is-error';
    if (i === this.cursor) cls += ' is-cursor';
    if (match) cls += i === this.current ? ' is-match is-current' : ' is-match';
    if (collapsed) cls += ' is-collapsed';
    if (!kids) cls += ' is-leaf';
    if (m.missingParent[i] !== null) cls += ' is-orphan';
    const inProgress = isInProgress(m.spans[i]);
    if (inProgress) cls += ' is-in-progress';
    r.el.className = cls;

    if (r.span !== i) {
      const s = m.spans[i];
      const depth = m.depth[i];
      const color = this.colors[m.svc[i]];
      r.el.id = `wf-span-${i}`;
      r.el.dataset.idx = String(i);
      r.el.dataset.spanId = String(s.spanID || '');
      r.el.dataset.descendants = String(descendantCount(m, i));
      r.el.setAttribute('aria-level', String(depth + 1));
      r.el.style.setProperty('--c', color);
      const indent = Math.min(depth, MAX_INDENT) * INDENT;
      r.name.style.setProperty('--indent', `${indent}px`);
      r.name.title = `${m.services[m.svc[i]].name}: ${s.operationName || ''}${depth > MAX_INDENT ? ` (depth ${depth})` : ''}`;
      setText(r.svc, m.services[m.svc[i]].name);
      setText(r.op, s.operationName || '(no name)');

      const span = this.view1 - this.view0 || 1;
      const rawLeft = ((m.start[i] - m.traceStart - this.view0) / span) * 100;
      const rawEnd = rawLeft + (m.dur[i] / span) * 100;
      // Clip to the window (zoomed views): the bar shows the visible part.
      const left = Math.max(rawLeft, -1);
      const end = Math.min(rawEnd, 101);
      r.bar.hidden = rawEnd < -1 || rawLeft > 101;
      r.bar.style.left = `${left}%`;
      r.bar.style.width = `${Math.max(0, end - left)}%`;
      const durText = inProgress ? `${formatDuration(m.dur[i])} · in progress, never ended` : formatDuration(m.dur[i]);
      setText(r.label, r.bar.hidden ? (rawEnd < 0 ? `◂ ${durText}` : `${durText} ▸`) : durText);
      const ls = r.label.style;
      if (r.bar.hidden) {
        r.label.className = rawEnd < 0 ? 'wf-label off-left' : 'wf-label off-right';
        ls.left = '';
        ls.right = '';
      } else if (end <= 78) {
        r.label.className = 'wf-label after';
        ls.left = `${end}%`;
        ls.right = '';
      } else if (left >= 22) {
        r.label.className = 'wf-label before';
        ls.left = '';
        ls.right = `${100 - left}%`;
      } else {
        r.label.className = 'wf-label inside';
        ls.left = `${left}%`;
        ls.right = '';
      }
      this.fillItems(r, i);
      this.fillMarks(r, i);
      r.span = i;
    }
    if (kids) r.el.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
    else r.el.removeAttribute('aria-expanded');
    r.el.setAttribute('aria-selected', i === this.cursor ? 'true' : 'false');
    if (collapsed) {
      const hidden = descendantCount(m, i);
      const errs = m.subtreeErrors[i] - m.error[i];
      setText(r.badge, `+${formatCount(hidden)}`);
      r.badge.className = errs ? 'wf-badge has-errors' : 'wf-badge';
      r.badge.title = `${plural(hidden, 'hidden span')}${errs ? `, ${formatCount(errs)} with errors` : ''}`;
    } else if (r.badge.firstChild) {
      setText(r.badge, '');
    }
    r.ver = this.version;
  }

  fillItems(r, i) {
    const titles = this.items.get(i);
    r.items.hidden = !titles;
    if (!titles) return;
    setText(r.items, String(titles.length));
    r.items.title = `${plural(titles.length, 'error item')}: ${titles.join('; ')}`;
    r.items.dataset.count = String(titles.length);
  }

  fillMarks(r, i) {
    const marks = this.marks.get(i);
    if (!marks) {
      if (r.marks.firstChild) r.marks.replaceChildren();
      r.cluster = null;
      return;
    }
    r.cluster = clusterMarks(marks, this.view0, this.view1, this.m.duration);
    r.marks.replaceChildren(...r.cluster.map((c, k) => {
      const n = c.marks.length;
      let cls = n > 1 ? 'wf-mark is-cluster' : 'wf-mark';
      if (c.marks.some((mk) => mk.error)) cls += ' is-error';
      if (c.outside) cls += ' is-outside';
      const el = h('span', { class: cls, dataset: { k: String(k), count: String(n) }, 'aria-label': n > 1 ? plural(n, 'log line') : c.marks[0].text }, n > 1 ? formatCount(n) : null);
      el.style.left = `${c.left}%`;
      return el;
    }));
  }

  // showTip shows the lines of a mark (or cluster) beside it.
  showTip(markEl) {
    const rowEl = markEl.closest('.wf-row');
    const row = rowEl && this.active.get(this.rowOf[Number(rowEl.dataset.idx)]);
    const c = row && row.cluster && row.cluster[Number(markEl.dataset.k)];
    if (!c) return;
    const lines = c.marks.slice(0, TIP_LINES).map((mk) => h('div', { class: 'wf-tip-line' },
      h('span', { class: 'mono muted' }, `+${formatDuration(mk.t)}`),
      mk.severity ? h('span', { class: mk.error ? 'badge badge-error' : 'badge' }, mk.severity) : null,
      h('span', { class: 'mono wf-tip-text' }, mk.text)));
    const more = c.marks.length - TIP_LINES;
    if (more > 0) lines.push(h('div', { class: 'muted small' }, `and ${formatCount(more)} more (click to see all)`));
    this.tip.replaceChildren(...lines);
    this.tip.hidden = false;
    const box = this.el.getBoundingClientRect();
    const at = markEl.getBoundingClientRect();
    const x = Math.min(at.left - box.left, box.width - this.tip.offsetWidth - 8);
    const below = at.bottom - box.top + 4;
    const y = below + this.tip.offsetHeight > box.height ? at.top - box.top - this.tip.offsetHeight - 4 : below;
    this.tip.style.left = `${Math.max(4, x)}px`;
    this.tip.style.top = `${Math.max(0, y)}px`;
  }

  // ---- interaction ----

  onKey(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const total = this.rows.length;
    if (!total) return;
    const v = this.cursor >= 0 ? this.rowOf[this.cursor] : -1;
    const page = Math.max(1, Math.floor((this.viewH || 600) / ROW_HEIGHT) - 1);
    const go = (nv) => {
      e.preventDefault();
      this.setCursor(this.rows[Math.max(0, Math.min(total - 1, nv))], 'key');
    };
    const firstInView = () => Math.min(total - 1, Math.ceil(this.scroll.scrollTop / ROW_HEIGHT));
    switch (e.key) {
      case 'ArrowDown': case 'j': return go(v < 0 ? firstInView() : v + 1);
      case 'ArrowUp': case 'k': return go(v < 0 ? firstInView() : v - 1);
      case 'PageDown': return go(v < 0 ? firstInView() : v + page);
      case 'PageUp': return go(v < 0 ? firstInView() : v - page);
      case 'Home': return go(0);
      case 'End': return go(total - 1);
      case 'ArrowLeft': case 'h': {
        if (this.cursor < 0) return go(firstInView());
        e.preventDefault();
        if (this.m.childCount[this.cursor] && !this.collapsed[this.cursor]) this.toggle(this.cursor, true);
        else if (this.m.parent[this.cursor] !== -1) this.setCursor(this.m.parent[this.cursor], 'key');
        return undefined;
      }
      case 'ArrowRight': case 'l': {
        if (this.cursor < 0) return go(firstInView());
        e.preventDefault();
        if (this.collapsed[this.cursor]) this.toggle(this.cursor, false);
        else if (this.m.childCount[this.cursor]) go(v + 1);
        return undefined;
      }
      case 'Enter': case ' ':
        if (this.cursor < 0) return go(firstInView());
        e.preventDefault();
        this.onActivate(this.cursor);
        return undefined;
      default:
        return undefined;
    }
  }

  startResize(e) {
    e.preventDefault();
    const rect = this.el.getBoundingClientRect();
    const width = rect.width;
    this.resizer.setPointerCapture(e.pointerId);
    const move = (ev) => {
      const frac = Math.min(0.7, Math.max(0.12, (ev.clientX - rect.left) / width));
      this.el.style.setProperty('--name-w', `${(frac * 100).toFixed(2)}%`);
    };
    const up = () => {
      this.resizer.removeEventListener('pointermove', move);
      this.resizer.removeEventListener('pointerup', up);
      this.resizer.removeEventListener('pointercancel', up);
    };
    this.resizer.addEventListener('pointermove', move);
    this.resizer.addEventListener('pointerup', up);
    this.resizer.addEventListener('pointercancel', up);
  }
}
