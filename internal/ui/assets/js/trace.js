// The trace page (/trace/{id}[?span={spanID}]): header, toolbar with
// find-in-trace, the waterfall and the span detail panel.
import { h, clear, debounce, setText } from './dom.js';
import { api } from './api.js';
import { busy, showError, setURL, emptyState, loadingState } from './shell.js';
import { buildTraceModel, findSpans, serviceName, isInProgress } from './tracemodel.js';
import { Waterfall } from './waterfall.js';
import { renderSpanDetail } from './spandetail.js';
import { loadTraceLogs, renderTraceLogs, renderSpanLogs, logMarks } from './tracelogs.js';
import { formatDuration, formatTime, formatRelative, plural, formatCount } from './format.js';
import { serviceColor, learnServices } from './colors.js';
import { serviceChip } from './widgets.js';
import { loadTraceErrorItems, renderTraceErrorItems, renderSpanErrorItems } from './errorviews.js';

export class TracePage {
  mount(root, route) {
    this.id = route.id;
    this.abort = new AbortController();
    this.wf = null;
    this.model = null;
    this.panelOpen = false;
    document.title = `Trace ${this.id.slice(0, 8)} · lookout`;
    this.el = h('div', { class: 'trace-page' }, loadingState('Loading trace…'));
    root.appendChild(this.el);
    this.load(route);
  }

  update(route) {
    if (route.id !== this.id || !this.model) return false;
    const spanID = route.params.get('span');
    const i = spanID ? this.model.byID.get(spanID) : undefined;
    if (i !== undefined) this.openSpan(i);
    else this.closePanel();
    return true;
  }

  unmount() {
    this.abort.abort();
    if (this.wf) this.wf.destroy();
    this.el.remove();
  }

  async load(route) {
    const t0 = performance.now();
    let trace;
    try {
      trace = await busy(api.trace(this.id, this.abort.signal));
    } catch (err) {
      if (err.name === 'AbortError') return;
      showError(`Could not load trace ${this.id}: ${err.message}`);
      clear(this.el).appendChild(emptyState(err.status === 404 ? 'Trace not found' : 'Could not load the trace', err.message, 'page-empty is-error'));
      return;
    }
    const t1 = performance.now();
    const model = buildTraceModel(trace);
    this.model = model;
    const t2 = performance.now();
    this.render();
    const spanID = route.params.get('span');
    const sel = spanID ? model.byID.get(spanID) : undefined;
    if (sel !== undefined) this.openSpan(sel);
    this.wf.renderNow();
    this.showLogs();
    const t3 = performance.now();
    this.showErrorItems();
    // Timings for the browser test and for curious people (in the DOM, not the console).
    Object.assign(this.wf.el.dataset, { fetchMs: (t1 - t0).toFixed(1), buildMs: (t2 - t1).toFixed(1), renderMs: (t3 - t2).toFixed(1) });
    // Once the frame showing the rows is drawn: mark it (for the browser test, the mark's
    // time is ms since the navigation started) and give the waterfall the keyboard, which
    // earlier would have forced a layout before the browser's own.
    requestAnimationFrame(() => setTimeout(() => {
      if (this.abort.signal.aborted) return;
      performance.mark('lookout:trace-rows');
      this.wf.el.dataset.ready = 'true';
      if (document.activeElement === document.body) this.wf.focus();
    }));
  }

  render() {
    const m = this.model;
    const root = m.root >= 0 ? m.spans[m.root] : null;
    const rootSvc = m.root >= 0 ? serviceName(m, m.root) : '';
    const rootName = root ? root.operationName || '(no name)' : '(no root span)';
    document.title = `${rootSvc}: ${rootName} · lookout`;
    learnServices(m.services.map((s) => s.name).sort());

    const stats = [
      ['Started', formatTime(m.traceStart), formatRelative(m.traceStart)],
      ['Duration', formatDuration(m.duration)],
      ['Spans', formatCount(m.n)],
      ['Services', String(m.services.length)],
      ['Depth', String(m.maxDepth + 1)],
      ['Errors', formatCount(m.errorCount), null, m.errorCount ? 'is-error' : ''],
    ];
    const warnings = [];
    if (m.orphans) warnings.push(`${plural(m.orphans, 'span')} whose parent is missing shown at the top level`);
    if (m.cycles) warnings.push(`${plural(m.cycles, 'reference cycle')} broken`);
    if (m.duplicateIDs) warnings.push(`${plural(m.duplicateIDs, 'duplicate span ID')}`);
    const inProgress = m.spans.filter(isInProgress).length;
    if (inProgress) warnings.push(`${plural(inProgress, 'span')} still in progress: begun but never ended (an X-Ray segment whose end_segment never came, or that a second begin_segment replaced); bars run to when it was last seen`);

    const header = this.header = h('section', { class: 'trace-head' },
      h('div', { class: 'trace-title-row' },
        h('h1', { class: 'trace-title' },
          h('span', { class: 'swatch swatch-lg', style: { background: serviceColor(rootSvc) } }),
          h('span', { class: 'trace-title-svc' }, rootSvc),
          h('span', { class: 'trace-title-op' }, rootName)),
        h('span', { class: 'trace-id mono', title: 'Trace ID' }, m.traceID || this.id),
        h('button', { type: 'button', class: 'btn btn-small', onClick: (e) => copyText(m.traceID || this.id, e.currentTarget) }, 'Copy ID'),
        h('a', { class: 'btn btn-small', href: `/api/traces/${encodeURIComponent(this.id)}`, target: '_blank', rel: 'noopener' }, 'JSON')),
      h('dl', { class: 'trace-stats' }, stats.map(([k, v, sub, cls]) => h('div', { class: `stat ${cls || ''}` },
        h('dt', null, k), h('dd', null, v, sub ? h('span', { class: 'muted' }, ` · ${sub}`) : null)))),
      h('div', { class: 'chips' }, m.servicesByCount.map((s) => serviceChip(s.name, s.spanCount))),
      warnings.length ? h('div', { class: 'trace-warnings' }, warnings.map((w) => h('span', { class: 'badge badge-warn' }, w))) : null);

    this.findInput = h('input', {
      type: 'search', class: 'find-input', placeholder: 'Find in trace…  ( / )', spellcheck: 'false', autocomplete: 'off',
      'aria-label': 'Find spans in this trace',
    });
    this.findCount = h('span', { class: 'find-count', 'aria-live': 'polite' });
    const runFind = debounce(() => this.find(), 120);
    this.findInput.addEventListener('input', runFind);
    this.findInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        runFind.cancel();
        if (this.findQuery !== this.findInput.value) this.find();
        this.stepMatch(e.shiftKey ? -1 : 1, true);
      } else if (e.key === 'Escape' && !this.findInput.value) {
        this.findInput.blur();
        this.wf.focus();
      }
    });

    const toolbar = h('div', { class: 'trace-toolbar' },
      h('button', { type: 'button', class: 'btn btn-small', onClick: () => this.wf.expandAll() }, 'Expand all'),
      h('button', { type: 'button', class: 'btn btn-small', onClick: () => this.wf.collapseAll() }, 'Collapse all'),
      this.zoomInfo = h('span', { class: 'zoom-info', hidden: true }),
      this.zoomReset = h('button', { type: 'button', class: 'btn btn-small', hidden: true, onClick: () => this.wf.zoom(0, m.duration || 1) }, 'Reset zoom'),
      h('span', { class: 'toolbar-hint muted small' }, 'Drag across the time axis to zoom'),
      h('div', { class: 'find' },
        this.findInput,
        this.findCount,
        h('button', { type: 'button', class: 'btn btn-small', title: 'Previous match (Shift+Enter, N)', 'aria-label': 'Previous match', onClick: () => this.stepMatch(-1) }, '↑'),
        h('button', { type: 'button', class: 'btn btn-small', title: 'Next match (Enter, n)', 'aria-label': 'Next match', onClick: () => this.stepMatch(1) }, '↓')));

    this.wf = new Waterfall(m, {
      onCursor: (i, how) => {
        if (how === 'click') this.panelOpen = true;
        if (this.panelOpen) this.showDetail(i);
      },
      onActivate: (i) => (this.panelOpen ? this.closePanel() : this.openSpan(i)),
      onMark: () => this.panel.querySelector('[data-section="span-logs"]')?.scrollIntoView({ block: 'nearest' }),
      onZoom: (range) => {
        this.zoomReset.hidden = !range;
        this.zoomInfo.hidden = !range;
        if (range) setText(this.zoomInfo, `Showing ${formatDuration(range[0])} – ${formatDuration(range[1])}`);
      },
    });
    this.panel = h('aside', { class: 'span-panel', hidden: true, 'aria-label': 'Span detail' });
    const body = h('div', { class: 'trace-body' }, this.wf.el, this.panel);
    clear(this.el).append(header, toolbar, body);
  }

  // showLogs adds the trace's log lines under its header, and to the open span's detail.
  async showLogs() {
    let logs;
    try {
      logs = await loadTraceLogs(this.model.traceID || this.id, this.abort.signal);
    } catch (err) {
      if (err.name !== 'AbortError') showError(`Could not load the trace's logs: ${err.message}`);
      return;
    }
    this.logs = logs;
    const onSpan = (spanID) => {
      const i = this.model.byID.get(spanID);
      if (i !== undefined) this.openSpan(i);
    };
    this.el.querySelector('.trace-head').after(renderTraceLogs(logs, this.model.traceStart, onSpan));
    this.wf.setMarks(logMarks(this.model, logs));
    if (this.panelOpen && this.selected !== undefined) this.showDetail(this.selected);
  }

  // showErrorItems links the trace's error items under its header, flags the rows of the
  // spans that reported them, and lists them in those spans' detail.
  async showErrorItems() {
    let items;
    try {
      items = await loadTraceErrorItems(this.model.traceID || this.id, this.abort.signal);
    } catch {
      return; // left the page
    }
    const links = renderTraceErrorItems(items);
    if (links) this.header.appendChild(links);
    const bySpan = new Map();
    for (const it of items) {
      for (const id of new Set(it.spans)) {
        if (!bySpan.has(id)) bySpan.set(id, []);
        bySpan.get(id).push(it);
      }
    }
    this.itemsBySpan = bySpan;
    const titles = new Map();
    for (const [id, list] of bySpan) {
      const i = this.model.byID.get(id);
      if (i !== undefined) titles.set(i, list.map((it) => `#${it.counter} ${it.title}`));
    }
    this.wf.setItems(titles);
    if (this.panelOpen && this.selected !== undefined) this.showDetail(this.selected);
  }

  openSpan(i) {
    this.panelOpen = true;
    this.wf.setCursor(i, 'api');
    this.showDetail(i);
  }

  showDetail(i) {
    const m = this.model;
    clear(this.panel).appendChild(renderSpanDetail(m, i, {
      onGoto: (j) => this.openSpan(j),
      onClose: () => this.closePanel(),
    }));
    this.selected = i;
    const detail = this.panel.firstChild;
    const items = this.itemsBySpan && this.itemsBySpan.get(m.spans[i].spanID);
    if (items) detail.insertBefore(renderSpanErrorItems(items, m.spans[i].spanID), detail.querySelector('[data-section="tags"]'));
    if (this.logs) detail.appendChild(renderSpanLogs(this.logs, m.spans[i].spanID, m.traceStart));
    this.panel.hidden = false;
    this.panel.scrollTop = 0;
    setURL(`/trace/${encodeURIComponent(this.id)}?span=${encodeURIComponent(m.spans[i].spanID)}`);
  }

  closePanel() {
    this.panelOpen = false;
    if (!this.panel) return;
    this.panel.hidden = true;
    clear(this.panel);
    setURL(`/trace/${encodeURIComponent(this.id)}`);
    this.wf.focus();
  }

  find() {
    const q = this.findInput.value.trim();
    this.findQuery = this.findInput.value;
    if (!q) {
      this.matchList = [];
      this.matchAt = -1;
      this.wf.setMatches(null);
      setText(this.findCount, '');
      return;
    }
    const list = findSpans(this.model, q);
    const flags = new Uint8Array(this.model.n);
    for (const i of list) flags[i] = 1;
    this.matchList = list;
    this.matchAt = list.length ? 0 : -1;
    this.wf.setMatches(flags, list.length ? list[0] : -1);
    this.updateFindCount();
  }

  /** stepMatch moves to the next (+1) or previous (-1) match; open also shows its detail. */
  stepMatch(dir, open = false) {
    if (!this.matchList || !this.matchList.length) return;
    if (!open || this.panelOpen) this.matchAt = (this.matchAt + dir + this.matchList.length) % this.matchList.length;
    const i = this.matchList[this.matchAt];
    this.wf.setMatches(this.wf.matches, i);
    if (open || this.panelOpen) this.openSpan(i);
    else this.wf.setCursor(i, 'key');
    this.updateFindCount();
  }

  updateFindCount() {
    const n = this.matchList.length;
    setText(this.findCount, n ? `${this.matchAt + 1} of ${formatCount(n)}` : 'no matches');
    this.findCount.classList.toggle('is-none', n === 0);
  }

  focusSearch() {
    if (this.findInput) {
      this.findInput.focus();
      this.findInput.select();
    }
  }

  onKey(e) {
    if (!this.model) return;
    if (e.key === 'Escape') {
      if (this.panelOpen) this.closePanel();
      else if (this.findInput.value) {
        this.findInput.value = '';
        this.find();
      }
      return;
    }
    if (e.key === 'n' || e.key === 'N') {
      e.preventDefault();
      this.stepMatch(e.key === 'n' ? 1 : -1);
      return;
    }
    // Arrow keys and friends reach the waterfall even when it lacks focus.
    const active = document.activeElement;
    if (!active || active === document.body) this.wf.onKey(e);
  }
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    const old = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = old; }, 1200);
  } catch {
    showError('Copying needs clipboard permission; select the ID and copy it instead.');
  }
}
