// Browser tests for the lookout web UI: playwright-core driving Debian's
// Chromium against a running lookout that already holds data.
//
// Contract. The caller (a Go test that starts lookout and sends traces with
// the OpenTelemetry SDK) sets:
//
//   LOOKOUT_UI_URL            base URL of the running lookout, UI and API on one
//                             origin, e.g. http://127.0.0.1:8080 (required: without
//                             it every test is skipped)
//   LOOKOUT_SCREENSHOT_DIR    folder for the PNGs (created if missing; default: a
//                             new temporary folder, printed)
//   LOOKOUT_SERVICE           a service with traces in the last hour
//   LOOKOUT_SMALL_TRACE_ID    a trace of a few spans (at most 25, so all fit on
//                             screen) with at least one span that has children
//   LOOKOUT_SMALL_TRACE_SPANS its number of spans
//   LOOKOUT_BIG_TRACE_ID      a trace of 10,000 or more spans
//   LOOKOUT_BIG_TRACE_SPANS   its number of spans
//   LOOKOUT_XSS_TRACE_ID      a trace with a span attribute whose value contains
//                             <img src=x onerror=alert(1)>
//   LOOKOUT_QUERY_DATASET     a dataset of 400 spans over the last 40 minutes: routes
//                             /api/cart, /api/products, /api/users/{id} (5-100 ms) and
//                             every tenth /api/checkout, slow (800-1000 ms) and failed
//   CHROMIUM_PATH             optional; default /usr/bin/chromium
//
// A test whose variables are missing is skipped, not failed. Every test also
// fails on a JavaScript dialog (alert), an uncaught page error, a console
// error or a Content-Security-Policy violation.
//
// Run:  cd internal/ui/e2e && npm ci && LOOKOUT_UI_URL=http://127.0.0.1:8080 ... node --test
//
// Screenshots: search.png, trace.png, trace-collapsed.png, span-detail.png,
// big-trace.png, query.png, heatmap-bubbleup.png, query-events.png.

import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const BASE = (env.LOOKOUT_UI_URL || '').replace(/\/+$/, '');
const SERVICE = env.LOOKOUT_SERVICE || '';
const SMALL_ID = env.LOOKOUT_SMALL_TRACE_ID || '';
const SMALL_SPANS = Number(env.LOOKOUT_SMALL_TRACE_SPANS || 0);
const BIG_ID = env.LOOKOUT_BIG_TRACE_ID || '';
const BIG_SPANS = Number(env.LOOKOUT_BIG_TRACE_SPANS || 0);
const XSS_ID = env.LOOKOUT_XSS_TRACE_ID || '';
const XSS = '<img src=x onerror=alert(1)>';
const CHROMIUM = env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

let shots = env.LOOKOUT_SCREENSHOT_DIR || '';
let profile = '';
let context = null;
let page = null;
let problems = [];

const skipUnless = (...vars) => {
  if (!BASE) return 'LOOKOUT_UI_URL is not set';
  const missing = vars.filter((v) => !env[v]);
  return missing.length ? `${missing.join(', ')} not set` : false;
};

before(async () => {
  if (!BASE) return;
  if (!shots) shots = await mkdtemp(path.join(tmpdir(), 'lookout-ui-shots-'));
  await mkdir(shots, { recursive: true });
  console.log(`screenshots in ${shots}`);
  profile = await mkdtemp(path.join(tmpdir(), 'lookout-ui-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
  });
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
    });
  });
});

after(async () => {
  if (context) await context.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

beforeEach(async () => {
  if (!context) return;
  problems = [];
  page = await context.newPage();
  page.on('dialog', async (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    await d.dismiss();
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A 404 for a trace the test asked for on purpose is logged by Chromium as a failed resource.
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
  });
  page.on('request', (req) => {
    if (/\/x$/.test(new URL(req.url()).pathname)) problems.push(`hostile image requested: ${req.url()}`);
  });
});

afterEach(async () => {
  if (!page) return;
  const csp = await page.evaluate(() => window.__csp || []).catch(() => []);
  for (const v of csp) problems.push(`CSP violation: ${v}`);
  await page.close();
  page = null;
  assert.deepEqual(problems, [], 'the page raised problems');
});

const shot = (name) => page.screenshot({ path: path.join(shots, name) });

/** waitTrace opens a trace page and waits for its waterfall. */
async function openTrace(id) {
  const t0 = Date.now();
  await page.goto(`${BASE}/trace/${encodeURIComponent(id)}`);
  await page.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
  return Date.now() - t0;
}

const wfData = () => page.$eval('.wf', (el) => ({ ...el.dataset, domRows: el.querySelectorAll('.wf-row').length }));

// rowsInOrder lists the rendered rows from top to bottom.
const rowsInOrder = () => page.$$eval('.wf-row', (rows) => rows
  .map((r) => ({ id: r.dataset.spanId, level: Number(r.getAttribute('aria-level')), y: r.getBoundingClientRect().top, leaf: r.classList.contains('is-leaf'), descendants: Number(r.dataset.descendants) }))
  .sort((a, b) => a.y - b.y));

test('the search page lists services', { skip: skipUnless(), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => document.querySelectorAll('#f-service option').length > 1, null, { timeout: 15_000 });
  const services = await page.$$eval('#f-service option', (os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(services.length > 0, 'no services listed');
  if (SERVICE) assert.ok(services.includes(SERVICE), `${SERVICE} not among ${services.join(', ')}`);
  assert.match(await page.textContent('.search-results'), /Search for traces|No services yet/);
});

test('searching for a service shows results and the scatter', { skip: skipUnless('LOOKOUT_SERVICE'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/search`);
  await page.waitForFunction((s) => [...document.querySelectorAll('#f-service option')].some((o) => o.value === s), SERVICE, { timeout: 15_000 });
  await page.selectOption('#f-service', SERVICE);
  await page.click('#find-traces');
  await page.waitForSelector('.result', { timeout: 15_000 });
  await page.waitForSelector('.scatter[data-points] canvas', { timeout: 15_000 });
  const results = await page.$$eval('.result', (rs) => rs.length);
  const points = Number(await page.getAttribute('.scatter', 'data-points'));
  assert.ok(results > 0);
  assert.equal(points, results, 'one scatter point per result');
  assert.equal(new URL(page.url()).searchParams.get('service'), SERVICE, 'the search is in the URL');
  const first = await page.$eval('.result', (r) => ({
    svc: r.querySelector('.result-svc').textContent, chips: r.querySelectorAll('.chip').length, dur: r.querySelector('.result-dur').textContent,
  }));
  assert.ok(first.svc && first.chips > 0 && first.dur, `a result shows its root service, services and duration: ${JSON.stringify(first)}`);
  await page.waitForTimeout(200);
  await shot('search.png');

  // The URL alone reproduces the search.
  await page.reload();
  await page.waitForSelector('.result', { timeout: 15_000 });
  assert.equal(await page.$eval('#f-service', (s) => s.value), SERVICE);

  // Sorting by longest puts the longest first.
  await page.selectOption('#f-sort', 'longest');
  const durs = await page.$$eval('.result', (rs) => rs.map((r) => r.querySelector('.result-dur').textContent));
  assert.equal(durs.length, results);

  // Clicking a point opens its trace. Points can overlap (or sit under the legend), so try
  // them in turn: one of them must open its trace.
  await page.waitForSelector('.scatter canvas');
  const pts = await page.evaluate(() => {
    const el = document.querySelector('.scatter');
    const chart = window.echarts.getInstanceByDom(el);
    const r = el.getBoundingClientRect();
    const out = [];
    chart.getOption().series.forEach((series, si) => {
      for (const d of series.data || []) {
        const [x, y] = chart.convertToPixel({ seriesIndex: si }, d.value);
        out.push({ x: r.left + x, y: r.top + y });
      }
    });
    return out;
  });
  assert.ok(pts.length > 0, 'the chart has points');
  let opened = false;
  for (const pt of pts) {
    await page.mouse.click(pt.x, pt.y);
    try {
      await page.waitForURL(/\/trace\//, { timeout: 3_000 });
      opened = true;
      break;
    } catch {
      // not this one
    }
  }
  assert.ok(opened, 'clicking a scatter point opens its trace');
  await page.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
});

test('a search that matches nothing says so; a bad one shows the error', { skip: skipUnless(), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/search?tags=${encodeURIComponent('lookout.e2e.no.such.tag=42')}&lookback=15m`);
  await page.waitForSelector('.empty-title', { timeout: 15_000 });
  assert.equal(await page.textContent('.empty-title'), 'No traces found');
  await page.fill('#f-min', '100');
  await page.click('#find-traces');
  assert.match(await page.textContent('[data-field="minDuration"] .field-error'), /unit/);
});

test('a small trace shows every span in the waterfall', { skip: skipUnless('LOOKOUT_SMALL_TRACE_ID', 'LOOKOUT_SMALL_TRACE_SPANS'), timeout: 60_000 }, async () => {
  await openTrace(SMALL_ID);
  const d = await wfData();
  assert.equal(Number(d.spanCount), SMALL_SPANS);
  assert.equal(Number(d.visibleRows), SMALL_SPANS);
  assert.equal(d.domRows, SMALL_SPANS);
  assert.ok(await page.$('.wf-tick'), 'the time axis has ticks');
  assert.match(await page.textContent('.trace-stats'), new RegExp(`Spans${SMALL_SPANS}`));
  await shot('trace.png');
});

test('collapsing a subtree hides its children and expanding shows them', { skip: skipUnless('LOOKOUT_SMALL_TRACE_ID', 'LOOKOUT_SMALL_TRACE_SPANS'), timeout: 60_000 }, async () => {
  await openTrace(SMALL_ID);
  const rows = await rowsInOrder();
  // The deepest-starting span with children: a real subtree, not the whole trace when there is one.
  const parents = rows.filter((r) => !r.leaf);
  assert.ok(parents.length, 'the small trace has a span with children');
  const target = parents.find((r) => r.level > 1) || parents[0];
  const at = rows.findIndex((r) => r.id === target.id);
  const hidden = [];
  for (let k = at + 1; k < rows.length && rows[k].level > target.level; k++) hidden.push(rows[k].id);
  assert.equal(hidden.length, target.descendants);

  const row = `.wf-row[data-span-id="${target.id}"]`;
  await page.click(`${row} .wf-toggle`);
  await page.waitForFunction((n) => Number(document.querySelector('.wf').dataset.visibleRows) === n, SMALL_SPANS - hidden.length);
  await page.waitForFunction((n) => document.querySelectorAll('.wf-row').length === n, SMALL_SPANS - hidden.length);
  for (const id of hidden) assert.equal(await page.$(`.wf-row[data-span-id="${id}"]`), null, `span ${id} is hidden`);
  assert.equal(await page.getAttribute(row, 'aria-expanded'), 'false');
  assert.match(await page.textContent(`${row} .wf-badge`), new RegExp(`\\+${hidden.length}`));
  await shot('trace-collapsed.png');

  await page.click(`${row} .wf-toggle`);
  await page.waitForFunction((n) => document.querySelectorAll('.wf-row').length === n, SMALL_SPANS);
  for (const id of hidden) assert.ok(await page.$(`.wf-row[data-span-id="${id}"]`), `span ${id} is shown again`);

  // Collapse all leaves the top level; expand all brings everything back.
  await page.click('text=Collapse all');
  await page.waitForFunction((n) => Number(document.querySelector('.wf').dataset.visibleRows) < n, SMALL_SPANS);
  await page.waitForFunction(() => document.querySelectorAll('.wf-row').length === Number(document.querySelector('.wf').dataset.visibleRows));
  assert.ok((await rowsInOrder()).every((r) => r.level === 1), 'only top-level spans remain');
  await page.click('text=Expand all');
  await page.waitForFunction((n) => document.querySelectorAll('.wf-row').length === n, SMALL_SPANS);
});

test('span detail shows hostile attribute values as text', { skip: skipUnless('LOOKOUT_XSS_TRACE_ID'), timeout: 60_000 }, async () => {
  await openTrace(XSS_ID);
  // Find the span through find-in-trace: Enter opens the first match.
  await page.fill('.find-input', 'onerror=alert(1)');
  await page.press('.find-input', 'Enter');
  let found = await page.waitForSelector('.span-panel .detail', { timeout: 5_000 }).then(() => true, () => false);
  const hasPayload = () => page.$$eval('.span-panel .kv-value', (tds, xss) => tds.some((td) => td.textContent.includes(xss)), XSS);
  if (!found || !(await hasPayload())) {
    // Fall back to clicking every row until one shows the value.
    const ids = (await rowsInOrder()).map((r) => r.id);
    found = false;
    for (const id of ids) {
      await page.click(`.wf-row[data-span-id="${id}"] .wf-op`);
      await page.waitForSelector('.span-panel .detail');
      if (await hasPayload()) { found = true; break; }
    }
  }
  assert.ok(found && (await hasPayload()), 'a span detail shows the hostile value');
  const cell = await page.$$eval('.span-panel .kv-value', (tds, xss) => {
    const td = tds.find((t) => t.textContent.includes(xss));
    return { text: td.textContent, children: td.children.length };
  }, XSS);
  assert.ok(cell.text.includes(XSS), 'rendered literally');
  assert.equal(cell.children, 0, 'the value cell holds text only');
  const created = await page.evaluate(() => ({
    img: document.querySelectorAll('img').length,
    script: document.querySelectorAll('body script').length,
    handlers: [...document.querySelectorAll('body *')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
  }));
  assert.deepEqual(created, { img: 0, script: 0, handlers: 0 }, 'no element made from data');
  await page.waitForTimeout(300); // an onerror would have fired by now
  await shot('span-detail.png');
});

test('a 10,000-span trace opens fast and renders only the rows in view', { skip: skipUnless('LOOKOUT_BIG_TRACE_ID', 'LOOKOUT_BIG_TRACE_SPANS'), timeout: 120_000 }, async () => {
  const ms = await openTrace(BIG_ID);
  const d = await wfData();
  console.log(`big trace: ${d.spanCount} spans, open ${ms} ms (fetch ${d.fetchMs} ms, build ${d.buildMs} ms, render ${d.renderMs} ms), ${d.domRows} DOM rows`);
  assert.equal(Number(d.spanCount), BIG_SPANS);
  assert.ok(BIG_SPANS >= 10_000);
  assert.ok(d.domRows > 10 && d.domRows < 200 && d.domRows * 20 < BIG_SPANS, `${d.domRows} DOM rows for ${BIG_SPANS} spans`);
  // About 100 ms on an idle 2-core machine; the bound leaves room for a busy one.
  assert.ok(Number(d.buildMs) + Number(d.renderMs) < 2000, 'the page builds and draws the tree in well under 2 s');
  await shot('big-trace.png');

  // Scrolled to the end, the last spans are there, and still few rows.
  await page.$eval('.wf-scroll', (el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForFunction(() => {
    const wf = document.querySelector('.wf');
    const last = Number(wf.dataset.visibleRows) - 1;
    return [...wf.querySelectorAll('.wf-row')].some((r) => r.style.transform === `translateY(${last * 24}px)`);
  }, null, { timeout: 5_000 });
  assert.ok((await wfData()).domRows < 200);

  // Collapse all and expand all stay quick.
  const t0 = Date.now();
  await page.click('text=Collapse all');
  await page.click('text=Expand all');
  await page.waitForFunction((n) => Number(document.querySelector('.wf').dataset.visibleRows) === n, BIG_SPANS);
  assert.ok(Date.now() - t0 < 2000, 'collapse and expand all in under 2 s');
});

test('an unknown trace shows the API error in the banner', { skip: skipUnless(), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/trace/00000000000000000000000000e2e404`);
  await page.waitForSelector('#banner:not([hidden])', { timeout: 15_000 });
  assert.match(await page.textContent('#banner-text'), /00000000000000000000000000e2e404/);
  assert.ok(await page.$('.empty.is-error'));
});

const DATASET = env.LOOKOUT_QUERY_DATASET || '';

test('the query builder runs P99 by route and shares it by URL', { skip: skipUnless('LOOKOUT_QUERY_DATASET'), timeout: 90_000 }, async () => {
  await page.goto(`${BASE}/query`);
  await page.waitForFunction((d) => [...document.querySelectorAll('.qbuilder select option')].some((o) => o.value === d), DATASET, { timeout: 15_000 });
  await page.selectOption('.qbuilder select[aria-label="Dataset"]', DATASET);
  // Replace the default calculations with typed clauses, as a user does.
  while (await page.$('[data-clause="visualize"] .qchip-x')) await page.click('[data-clause="visualize"] .qchip-x');
  await page.fill('[data-clause="visualize"] input', 'P99(duration_ms)');
  await page.press('[data-clause="visualize"] input', 'Enter');
  await page.fill('[data-clause="visualize"] input', 'COUNT');
  await page.press('[data-clause="visualize"] input', 'Enter');
  await page.fill('[data-clause="group-by"] input', 'http.route');
  await page.press('[data-clause="group-by"] input', 'Enter');
  await page.fill('[data-clause="order-by"] input', 'COUNT desc');
  await page.click('#run-query');
  await page.waitForSelector('.qtable tbody tr', { timeout: 20_000 });
  await page.waitForSelector('.qchart[data-calc="P99(duration_ms)"] canvas');
  const rows = await page.$$eval('.qtable tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  assert.equal(rows.length, 4, `one row per route: ${JSON.stringify(rows)}`);
  const byRoute = Object.fromEntries(rows.map((r) => [r[0], { p99: Number(r[1].replace(/,/g, '')), count: Number(r[2].replace(/,/g, '')) }]));
  // 40 checkouts of 800-1000 ms, 120 of each other route, under 100 ms.
  assert.equal(byRoute['/api/checkout'].count, 40);
  assert.ok(byRoute['/api/checkout'].p99 >= 800 && byRoute['/api/checkout'].p99 <= 1000, JSON.stringify(byRoute));
  assert.ok(byRoute['/api/cart'].p99 < 100);
  assert.equal(rows[rows.length - 1][0], '/api/checkout', 'ordered by COUNT descending');
  const q = JSON.parse(new URL(page.url()).searchParams.get('q'));
  assert.deepEqual(q.breakdowns, ['http.route']);
  await page.waitForTimeout(300);
  await shot('query.png');

  // The URL alone runs the same query; the query is in the recent list.
  await page.reload();
  await page.waitForSelector('.qtable tbody tr', { timeout: 20_000 });
  assert.equal(await page.$$eval('.qtable tbody tr', (trs) => trs.length), 4);
  assert.ok((await page.textContent('.qside')).includes('P99(duration_ms), COUNT by http.route'));

  // Saved queries are kept on the server.
  await page.fill('.save-name', 'p99 by route');
  await page.click('#save-query');
  await page.waitForSelector('.qside a:text("p99 by route")', { timeout: 10_000 });

  // WHERE suggests fields, then a field's frequent values.
  await page.fill('[data-clause="where"] input', 'http.route = ');
  await page.waitForFunction(() => [...document.querySelectorAll('#hc-filters option')].some((o) => o.value === 'http.route = /api/checkout'), null, { timeout: 10_000 });
  await page.fill('[data-clause="where"] input', '');

  // A bad clause is refused with the reason.
  await page.fill('[data-clause="where"] input', 'duration_ms >');
  await page.press('[data-clause="where"] input', 'Enter');
  await page.waitForSelector('#banner:not([hidden])');
  assert.match(await page.textContent('#banner-text'), /needs a value/);
  await page.click('#banner-close');
});

test('dragging over the heatmap opens BubbleUp, which finds what the slow requests share', { skip: skipUnless('LOOKOUT_QUERY_DATASET'), timeout: 90_000 }, async () => {
  const query = { calculations: [{ op: 'HEATMAP', column: 'duration_ms' }, { op: 'COUNT' }], time_range: 3600 };
  await page.goto(`${BASE}/query?dataset=${encodeURIComponent(DATASET)}&q=${encodeURIComponent(JSON.stringify(query))}`);
  await page.waitForSelector('.qchart[data-calc="HEATMAP(duration_ms)"][data-cells] canvas', { timeout: 20_000 });
  // Drag a box over the whole time range and the upper half of the value axis.
  const box = await page.evaluate(() => {
    const el = document.querySelector('.qchart[data-calc="HEATMAP(duration_ms)"]');
    const chart = window.echarts.getInstanceByDom(el);
    const r = el.getBoundingClientRect();
    const ys = chart.getOption().yAxis[0].data;
    const xs = chart.getOption().xAxis[0].data;
    const [x0, y0] = chart.convertToPixel({ seriesIndex: 0 }, [0, ys.length - 1]);
    const [x1, y1] = chart.convertToPixel({ seriesIndex: 0 }, [xs.length - 1, Math.floor(ys.length / 2)]);
    return { x0: r.left + x0, y0: r.top + y0, x1: r.left + x1, y1: r.top + y1 };
  });
  await page.mouse.move(box.x0, box.y0);
  await page.mouse.down();
  await page.mouse.move((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2, { steps: 5 });
  await page.mouse.move(box.x1, box.y1, { steps: 5 });
  await page.mouse.up();
  await page.waitForSelector('.bu-card', { timeout: 20_000 });
  const head = await page.textContent('.bu-head');
  assert.match(head, /Selection.*40 events/, head);
  const fields = await page.$$eval('.bu-card', (cs) => cs.map((c) => c.dataset.field));
  const top = fields.slice(0, 5);
  assert.ok(top.includes('http.route') && top.includes('error'), `top fields ${top}`);
  await page.waitForTimeout(300);
  await shot('heatmap-bubbleup.png');
});

test('a result row leads to its events and their traces', { skip: skipUnless('LOOKOUT_QUERY_DATASET'), timeout: 90_000 }, async () => {
  const query = { calculations: [{ op: 'COUNT' }], breakdowns: ['http.route'], filters: [{ column: 'error', op: '=', value: true }], time_range: 3600 };
  await page.goto(`${BASE}/query?dataset=${encodeURIComponent(DATASET)}&q=${encodeURIComponent(JSON.stringify(query))}`);
  await page.waitForSelector('.qtable tbody tr', { timeout: 20_000 });
  await page.click('.qtable tbody tr >> text=events');
  await page.waitForSelector('.qtable.events tbody tr', { timeout: 20_000 });
  const events = await page.$$eval('.qtable.events tbody tr', (trs) => trs.map((tr) => tr.children[2].textContent));
  assert.equal(events.length, 40);
  assert.ok(events.every((n) => n === 'GET /api/checkout'), events.join());
  await shot('query-events.png');
  await page.click('.qtable.events tbody tr a.mono');
  await page.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
});
