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
//   LOOKOUT_ORPHAN_TRACE_ID   a trace of LOOKOUT_SERVICE, minutes old, whose spans lack
//                             their root
//   LOOKOUT_DEMO              set when lookout holds the ten minutes of history that
//                             lookout demo's services (internal/demo) send first
//   LOOKOUT_XRAY_SERVICE      a service that sent X-Ray segments over UDP in the last
//                             hour, calling postgres (SQL), DynamoDB and payments (its
//                             own segments), with a fault; a malformed datagram refused
//   LOOKOUT_XRAY_IN_PROGRESS_TRACE_ID  a trace of one X-Ray segment begun and never ended
//   LOOKOUT_XRAY_RESPONSE_TIMES  the response times (seconds, space-separated) of the
//                             LOOKOUT_XRAY_SERVICE traces that ended, two or more, apart
//   LOOKOUT_XRAY_RULE_REQUESTS  the requests an SDK reported for the Default sampling rule
//   LOOKOUT_XRAY_RULE_PEAK    the most requests a second those came to in a minute, as the
//                             sampling table should show it
//   LOOKOUT_ERROR_PROJECT     the project of the items below (other projects may hold
//                             the exceptions of the demo's spans)
//   LOOKOUT_ERROR_TRACE_ID    a trace that a Rollbar item's latest occurrence was
//                             reported in: the Flask KeyError of seedRollbarItems
//                             (internal/server/browser_errors_test.go), whose message is
//                             markup, among three active items, and a log line of
//                             that request, and a deploy of 1.4.1 by andrew; it is
//                             LOOKOUT_SMALL_TRACE_ID
//   LOOKOUT_ERROR_SPAN_ID     the span of that trace the occurrence (and the log line) names
//   LOOKOUT_PAGED_ITEM        an item reported LOOKOUT_PAGED_ITEM_OCCURRENCES times (more
//                             than 100), a minute apart, by persons p0, p1, … in turn
//   LOOKOUT_TRACE_BUDGET_MS   optional; the longest median time (ms) a trace page may take
//                             to draw its first rows in a fresh browser (default 3000)
//   LOOKOUT_LOG_GROUP         a log group of four lines from minutes ago: {"status":200,…},
//                             "GET /api/home 500", and a 503 JSON line whose msg is hostile
//                             HTML, in the trace LOOKOUT_LOG_TRACE_ID, in stream "default";
//                             "worker web-1 started" in web-1/app/7; an empty web-2/app/9
//   LOOKOUT_EMPTY_LOG_GROUP   a log group without events, after a PutLogEvents refused for
//                             its missing stream web-7f9c/node/1
//   LOOKOUT_INGEST_URL        lookout's --http address, where the logs test sends a line live
//   CHROMIUM_PATH             optional; default /usr/bin/chromium
//
// A test whose variables are missing is skipped, not failed. Every test also
// fails on a JavaScript dialog (alert), an uncaught page error, a console
// error or a Content-Security-Policy violation (securitypolicyviolation
// events, collected from the start of every page).
//
// Run:  cd internal/ui/e2e && npm ci && LOOKOUT_UI_URL=http://127.0.0.1:8080 ... node --test
//
// Screenshots: search.png, search-service.png, trace.png, trace-small.png,
// trace-collapsed.png, span-detail.png, big-trace.png, query.png, query-fit.png,
// query-tooltip.png, heatmap-bubbleup.png, heatmap-bubbleup-shop.png,
// query-events.png, xray-service-map.png, xray-response-times.png, xray-in-progress.png, errors.png,
// errors-versions.png, errors-access.png, error-item.png, error-item-occurrences.png,
// trace-errors.png, trace-logs.png, logs-groups.png, logs-streams.png, logs-events.png,
// logs-pattern-error.png, logs-live.png.
// (The Insights test takes none: docs/insights.png comes from a fuller data set.)

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

const ORPHAN_ID = env.LOOKOUT_ORPHAN_TRACE_ID || '';
const TRACE_BUDGET_MS = Number(env.LOOKOUT_TRACE_BUDGET_MS || 3000); // a guard against gross regressions on a busy machine

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
  await context.addInitScript(watchCSP);
});

// watchCSP runs in every page before its own scripts and records Content-Security-Policy
// violations in window.__csp.
function watchCSP() {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
  });
}

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

// assertTimesAre24h fails when the page shows a 12-hour time anywhere.
async function assertTimesAre24h() {
  const text = await page.evaluate(() => document.body.innerText);
  assert.doesNotMatch(text, /\d{1,2}:\d{2}(:\d{2})?\s?(AM|PM)\b/i, 'a 12-hour time on the page');
}

// chipColors lists [service, colour] for every service chip on the page.
const chipColors = () => page.$$eval('.chip:not(.chip-more)', (cs) => cs.map((c) => [c.querySelector('.chip-name').textContent, c.style.getPropertyValue('--c')]));

// assertDistinct checks that [name, colour] pairs give each name one colour and no two names the same.
function assertDistinct(pairs, what) {
  const byName = new Map();
  for (const [name, color] of pairs) {
    assert.ok(color, `${what}: ${name} has no colour`);
    if (byName.has(name)) assert.equal(byName.get(name), color, `${what}: ${name} in two colours`);
    byName.set(name, color);
  }
  const names = [...byName.keys()];
  for (let i = 0; i < names.length; i++) {
    for (let k = i + 1; k < names.length; k++) {
      assert.notEqual(byName.get(names[i]), byName.get(names[k]), `${what}: ${names[i]} and ${names[k]} share ${byName.get(names[i])}`);
    }
  }
  return byName;
}

// scatterTimes lists the start (ms) of every point of the search page's scatter, and the x axis range.
const scatterTimes = () => page.evaluate(() => {
  const chart = window.echarts.getInstanceByDom(document.querySelector('.scatter'));
  const o = chart.getOption();
  return { points: o.series.flatMap((s) => s.data.map((d) => d.value[0])), min: o.xAxis[0].min, max: o.xAxis[0].max };
});

test('the search page shows recent traces on arrival, spread over the hour, services in distinct colours', { skip: skipUnless(), timeout: 90_000 }, async () => {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('.result', { timeout: 20_000 });
  await page.waitForSelector('.scatter[data-points] canvas', { timeout: 15_000 });
  assert.equal(new URL(page.url()).pathname, '/', 'the traces show without a click');
  const services = await page.$$eval('#f-service option', (os) => os.map((o) => o.value).filter(Boolean));
  if (SERVICE) assert.ok(services.includes(SERVICE), `${SERVICE} not among ${services.join(', ')}`);
  assert.match(await page.textContent('#tz'), /^Times in (UTC|.+ \(UTC[+-]\d\d:\d\d\))$/, 'the time zone is named once, in the top bar');
  await assertTimesAre24h();
  if (env.LOOKOUT_DEMO) {
    // Ten minutes of history at ten traces a second: the default limit does not reach back
    // ten minutes, so the results must be spread over the range, and the page says so.
    const { points, min, max } = await scatterTimes();
    assert.ok(max - min >= 3600e3 - 5e3, `the scatter covers the last hour: ${min}..${max}`);
    const spread = Math.max(...points) - Math.min(...points);
    assert.ok(spread > 7 * 60e3, `the results span ${Math.round(spread / 1000)} s of the demo's ten minutes`);
    assert.match(await page.textContent('#results-sampled'), /spread across the time range/);
    const colors = assertDistinct(await chipColors(), 'search results');
    assert.ok(colors.size >= 4, `services on the page: ${[...colors.keys()]}`);
  }
  await page.waitForTimeout(200);
  await shot('search.png');

  // A service keeps its colour after a reload.
  const before = new Map(await chipColors());
  await page.reload();
  await page.waitForSelector('.result', { timeout: 20_000 });
  for (const [name, color] of await chipColors()) {
    if (before.has(name)) assert.equal(color, before.get(name), `${name} changed colour on reload`);
  }
});

test('searching for a service shows results and the scatter', { skip: skipUnless('LOOKOUT_SERVICE'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/search`);
  await page.waitForFunction((s) => [...document.querySelectorAll('#f-service option')].some((o) => o.value === s), SERVICE, { timeout: 15_000 });
  await page.selectOption('#f-service', SERVICE);
  await page.click('#find-traces');
  await page.waitForFunction((s) => new URL(location.href).searchParams.get('service') === s && document.querySelector('.result'), SERVICE, { timeout: 15_000 });
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
  if (ORPHAN_ID) {
    // A trace whose root never arrived is marked, with the reason in its title.
    const badge = await page.$eval(`.result[data-trace-id="${ORPHAN_ID}"] .badge-incomplete`, (b) => ({ text: b.textContent, title: b.title }));
    assert.equal(badge.text, 'no root span');
    assert.match(badge.title, /root span is missing/);
    assert.equal(await page.$$eval('.result .badge-incomplete', (bs) => bs.length), 1, 'only the incomplete trace is marked');
  }
  await assertTimesAre24h();
  await page.waitForTimeout(200);
  await shot('search-service.png');

  // The URL alone reproduces the search.
  await page.reload();
  await page.waitForSelector('.result', { timeout: 15_000 });
  assert.equal(await page.$eval('#f-service', (s) => s.value), SERVICE);

  // Sorting by longest puts the longest first.
  await page.selectOption('#f-sort', 'longest');
  const durs = await page.$$eval('.result', (rs) => rs.map((r) => r.querySelector('.result-dur').textContent));
  assert.equal(durs.length, results);

  // Points show a tooltip (styled, within the Content-Security-Policy) and open their trace
  // when clicked. Points can overlap (or sit under the legend), so try them in turn.
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
  await page.mouse.move(pts[0].x, pts[0].y);
  await page.waitForSelector('.chart-tt .tt-title', { state: 'visible', timeout: 5_000 });
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
  await shot('trace-small.png');
});

// findTraces asks the API for trace summaries of the last 15 minutes matching params.
async function findTraces(params) {
  const now = Date.now() * 1000;
  const q = new URLSearchParams({ start: String(now - 900e6), end: String(now), limit: '50', ...params });
  const res = await fetch(`${BASE}/api/v1/trace-summaries?${q}`);
  return (await res.json()).data;
}

test('a failed demo request: the root span is an error, services keep their colours', { skip: skipUnless('LOOKOUT_DEMO'), timeout: 60_000 }, async () => {
  const failed = (await findTraces({ service: 'frontend', tags: JSON.stringify({ 'http.response.status_code': '500' }) }))
    .filter((s) => !s.rootMissing && !s.orphans && s.spanCount >= 5 && s.rootService === 'frontend');
  assert.ok(failed.length, 'the demo has failed requests');
  const t = failed[0];

  // The colours of the search page ...
  await page.goto(`${BASE}/search?service=frontend&lookback=15m`);
  await page.waitForSelector('.result', { timeout: 20_000 });
  const searchColors = assertDistinct(await chipColors(), 'search results');

  // ... are the trace page's.
  await openTrace(t.traceID);
  const rows = await page.$$eval('.wf-row', (rs) => rs.map((r) => ({
    level: Number(r.getAttribute('aria-level')), error: r.classList.contains('is-error'),
    svc: r.querySelector('.wf-svc').textContent, color: r.style.getPropertyValue('--c'),
  })));
  const root = rows.find((r) => r.level === 1);
  assert.ok(root && root.error, 'the root span of a request that answered 500 is an error');
  const traceColors = assertDistinct(rows.map((r) => [r.svc, r.color]), 'waterfall');
  for (const [name, color] of traceColors) {
    if (searchColors.has(name)) assert.equal(color, searchColors.get(name), `${name} differs between search and trace`);
  }
  assertDistinct(await chipColors(), 'trace header');
  await assertTimesAre24h();
  await shot('trace.png');
});

test('a trace page opened in a fresh browser draws its first rows quickly', { skip: skipUnless('LOOKOUT_SMALL_TRACE_ID'), timeout: 120_000 }, async () => {
  // Each run is a new browser profile: nothing cached. The page marks when its first rows
  // are drawn (performance.mark 'lookout:trace-rows', ms after the navigation started).
  const times = [];
  for (let run = 0; run < 5; run++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'lookout-ui-fresh-'));
    const fresh = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1440, height: 900 } });
    try {
      await fresh.addInitScript(watchCSP);
      const p = await fresh.newPage();
      await p.goto(`${BASE}/trace/${encodeURIComponent(SMALL_ID)}`);
      await p.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
      const m = await p.evaluate(() => ({
        rows: performance.getEntriesByName('lookout:trace-rows')[0].startTime,
        fetches: performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/traces/')).length,
        csp: window.__csp,
      }));
      assert.deepEqual(m.csp, [], 'no CSP violation');
      assert.equal(m.fetches, 1, 'the trace is fetched once: the page uses the preloaded response');
      times.push(Math.round(m.rows));
    } finally {
      await fresh.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  const median = [...times].sort((a, b) => a - b)[times.length >> 1];
  console.log(`trace page in a fresh browser: first rows after ${times.join(', ')} ms (median ${median} ms)`);
  // Under 300 ms on an idle 2-core machine, about 1 s when the machine's load is 20; the bound
  // only catches a page that stopped drawing early.
  assert.ok(median < TRACE_BUDGET_MS, `median ${median} ms to the first rows, over ${TRACE_BUDGET_MS} ms`);
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
  // Durations carry their unit, and a column has one precision, right-aligned.
  const p99s = rows.map((r) => r[1]);
  assert.ok(p99s.every((v) => /^[\d,]+(\.\d+)?(ms|s)$/.test(v)), `P99 with units: ${p99s}`);
  assert.equal(new Set(p99s.map((v) => (/\.(\d+)/.exec(v) || ['', ''])[1].length)).size, 1, `one precision: ${p99s}`);
  assert.equal(new Set(p99s.map((v) => v.replace(/[\d,.]/g, ''))).size, 1, `one unit: ${p99s}`);
  assert.ok(rows.every((r) => /^[\d,]+$/.test(r[2])), 'counts are whole numbers');
  assert.deepEqual(await page.$$eval('.qtable tbody td.num', (tds) => [...new Set(tds.map((td) => getComputedStyle(td).textAlign))]), ['right']);
  const ms = (v) => Number(v.replace(/,|ms|s$/g, '')) * (v.endsWith('ms') ? 1 : 1000);
  const byRoute = Object.fromEntries(rows.map((r) => [r[0], { p99: ms(r[1]), count: Number(r[2].replace(/,/g, '')) }]));
  // 40 checkouts of 800-1000 ms, 120 of each other route, under 100 ms.
  assert.equal(byRoute['/api/checkout'].count, 40);
  assert.ok(byRoute['/api/checkout'].p99 >= 800 && byRoute['/api/checkout'].p99 <= 1000, JSON.stringify(byRoute));
  assert.ok(byRoute['/api/cart'].p99 < 100);
  assert.equal(rows[rows.length - 1][0], '/api/checkout', 'ordered by COUNT descending');
  const q = JSON.parse(new URL(page.url()).searchParams.get('q'));
  assert.deepEqual(q.breakdowns, ['http.route']);
  await page.$eval('.qtable', (t) => t.scrollIntoView({ block: 'end' }));
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

  // A misspelled field is named, with the nearest known one, instead of an empty chart.
  await page.goto(`${BASE}/query`);
  await page.waitForFunction((d) => [...document.querySelectorAll('.qbuilder select option')].some((o) => o.value === d), DATASET, { timeout: 15_000 });
  await page.selectOption('.qbuilder select[aria-label="Dataset"]', DATASET);
  while (await page.$('[data-clause="visualize"] .qchip-x')) await page.click('[data-clause="visualize"] .qchip-x');
  await page.fill('[data-clause="visualize"] input', 'P99(duration)');
  await page.press('[data-clause="visualize"] input', 'Enter');
  await page.click('#run-query');
  await page.waitForSelector('#banner:not([hidden])');
  assert.match(await page.textContent('#banner-text'), /unknown column "duration"; did you mean duration_ms\?/);
  await shot('query-unknown-field.png');
  await page.click('#banner-close');
});

// heatmapBox returns the page coordinates of the part of the heatmap's plot between the
// fractions lo and hi (0 bottom, 1 top) of its value axis, over its whole time range.
const heatmapBox = (lo, hi) => page.evaluate(([lo, hi]) => {
  const el = document.querySelector('.qchart[data-calc="HEATMAP(duration_ms)"]');
  const chart = window.echarts.getInstanceByDom(el);
  const r = el.getBoundingClientRect();
  const { xAxis: [x], yAxis: [y] } = chart.getOption();
  const at = (f) => y.min + (y.max - y.min) * f;
  const [x0, y0] = chart.convertToPixel({ gridIndex: 0 }, [x.min, at(hi)]);
  const [x1, y1] = chart.convertToPixel({ gridIndex: 0 }, [x.max, at(lo)]);
  return { x0: r.left + x0 + 1, y0: r.top + y0 + 1, x1: r.left + x1 - 1, y1: r.top + y1 - 1 };
}, [lo, hi]);

async function drag(box) {
  await page.mouse.move(box.x0, box.y0);
  await page.mouse.down();
  await page.mouse.move((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2, { steps: 5 });
  await page.mouse.move(box.x1, box.y1, { steps: 5 });
  await page.mouse.up();
}

// assertHeatmapAxis checks the value axis: round ticks, labelled with a unit.
async function assertHeatmapAxis() {
  const ticks = await page.evaluate(() => {
    const chart = window.echarts.getInstanceByDom(document.querySelector('.qchart[data-calc="HEATMAP(duration_ms)"]'));
    const y = chart.getOption().yAxis[0];
    const axis = chart.getModel().getComponent('yAxis', 0).axis;
    return axis.scale.getTicks().map((t) => ({ value: t.value, label: y.axisLabel.formatter(t.value), interval: y.interval }));
  });
  assert.ok(ticks.length >= 3, JSON.stringify(ticks));
  for (const t of ticks) {
    const k = t.value / t.interval;
    assert.ok(Math.abs(k - Math.round(k)) < 1e-9, `tick ${t.value} is a multiple of ${t.interval}`);
    assert.match(t.label, /^(0|\d+(\.\d+)?(µs|ms|s))$/, `tick label ${t.label}`);
    assert.ok(/^[125]0*$/.test(String(t.interval / 10 ** Math.floor(Math.log10(t.interval))).replace('.', '')), `a round step: ${t.interval}`);
  }
}

// assertBubbleUpLegible checks BubbleUp's labels: every bar named, in full in its title.
async function assertBubbleUpLegible() {
  const head = await page.textContent('.bu-head');
  assert.doesNotMatch(head, /\s[:,]/, `no stray punctuation: ${head}`);
  const cards = await page.$$eval('.bu-card', (cs) => cs.map((c) => ({
    field: c.dataset.field,
    rows: [...c.querySelectorAll('.bu-row')].map((r) => ({ label: r.querySelector('.bu-label').textContent, title: r.querySelector('.bu-label').title, bars: r.querySelectorAll('.bu-bar').length })),
  })));
  for (const c of cards) {
    assert.ok(c.rows.length > 0, `${c.field} shows values`);
    for (const r of c.rows) {
      assert.ok(r.label.trim(), `${c.field}: a bar without a label`);
      assert.ok(r.title.startsWith(r.label), `${c.field}: the label's title holds it whole`);
      assert.equal(r.bars, 2, `${c.field} ${r.label}: a selection and a baseline bar`);
    }
  }
  return cards;
}

test('dragging over the heatmap opens BubbleUp, which finds what the slow requests share', { skip: skipUnless('LOOKOUT_QUERY_DATASET'), timeout: 90_000 }, async () => {
  const query = { calculations: [{ op: 'HEATMAP', column: 'duration_ms' }], time_range: 3600 };
  await page.goto(`${BASE}/query?dataset=${encodeURIComponent(DATASET)}&q=${encodeURIComponent(JSON.stringify(query))}`);
  await page.waitForSelector('.qchart[data-calc="HEATMAP(duration_ms)"][data-cells] canvas', { timeout: 20_000 });
  await assertHeatmapAxis();
  // Nothing but the heatmap is asked for: no table of links under it, but its colour legend.
  assert.equal(await page.$('.tab-overview .qtable'), null);
  assert.equal(await page.textContent('.heat-legend .heat-step'), '1', 'the legend starts at one event');
  // Drag a box over the whole time range and the upper half of the value axis.
  await drag(await heatmapBox(0.5, 1));
  await page.waitForSelector('.bu-card', { timeout: 20_000 });
  const head = await page.textContent('.bu-head');
  assert.match(head, /Selection.*40 events/, head);
  const cards = await assertBubbleUpLegible();
  const top = cards.slice(0, 5).map((c) => c.field);
  assert.ok(top.includes('http.route') && top.includes('error'), `top fields ${top}`);
  await assertTimesAre24h();
  await page.waitForTimeout(300);
  await shot('heatmap-bubbleup-shop.png');
});

test('on a fresh store the query page fits its range to the data and says so', { skip: skipUnless('LOOKOUT_DEMO'), timeout: 90_000 }, async () => {
  // The demo's history is ten minutes long: the last hour would be mostly empty.
  await page.goto(`${BASE}/query?dataset=cruddur-api`);
  await page.waitForSelector('#fit-note', { timeout: 20_000 });
  await page.waitForSelector('.qchart[data-calc="HEATMAP(duration_ms)"][data-cells] canvas', { timeout: 20_000 });
  const range = Number(await page.$eval('.qbuilder select[aria-label="Time range"]', (s) => s.value));
  assert.ok(range >= 600 && range <= 1200, `a range of ${range} s for ten minutes of data (and the minutes of the test)`);
  assert.equal(JSON.parse(new URL(page.url()).searchParams.get('q')).time_range, range, 'the fitted range is in the URL');
  assert.match(await page.textContent('#fit-note'), /since \d\d:\d\d:\d\d only.*rather than the last hour/);
  await assertHeatmapAxis();
  await assertTimesAre24h();
  await page.setViewportSize({ width: 1440, height: 1240 }); // the heatmap and its legend too
  await page.waitForTimeout(300);
  await shot('query-fit.png');
  await page.setViewportSize({ width: 1440, height: 900 });
  // Back to the hour on request.
  await page.click('#fit-note button');
  await page.waitForFunction(() => JSON.parse(new URL(location.href).searchParams.get('q')).time_range === 3600);
  await page.waitForSelector('.qchart[data-calc="HEATMAP(duration_ms)"][data-cells] canvas', { timeout: 20_000 });
  assert.equal(await page.$('#fit-note'), null);
});

test('BubbleUp over the demo\'s slowest requests finds the bad deploy', { skip: skipUnless('LOOKOUT_DEMO'), timeout: 90_000 }, async () => {
  const query = { calculations: [{ op: 'HEATMAP', column: 'duration_ms' }], filters: [{ column: 'span.kind', op: '=', value: 'server' }], time_range: 900 };
  await page.goto(`${BASE}/query?dataset=cruddur-api&q=${encodeURIComponent(JSON.stringify(query))}`);
  await page.waitForSelector('.qchart[data-calc="HEATMAP(duration_ms)"][data-cells] canvas', { timeout: 20_000 });
  // Select the slow requests: the value axis above its lowest seventh (a second or so).
  await drag(await heatmapBox(0.15, 1));
  await page.waitForSelector('.bu-card', { timeout: 20_000 });
  const cards = await assertBubbleUpLegible();
  const version = await page.$eval('.bu-card[data-field="service.version"]', (c) => [...c.querySelectorAll('.bu-row')].map((r) => ({
    label: r.querySelector('.bu-label').textContent, sel: parseInt(r.querySelector('.bu-pct .sel').textContent.replace('<', ''), 10), base: parseInt(r.querySelector('.bu-pct .base').textContent.replace('<', ''), 10),
  })));
  const canary = version.find((v) => v.label === '1.10.0');
  assert.ok(canary && canary.sel > 2 * canary.base, `service.version 1.10.0 stands out: ${JSON.stringify(version)}`);
  assert.ok(cards.slice(0, 6).some((c) => c.field === 'service.version'), `service.version among the top fields: ${cards.map((c) => c.field)}`);
  await assertTimesAre24h();
  await page.waitForTimeout(300);
  await shot('heatmap-bubbleup.png');
});

test('chart tooltips are styled and keep to the Content-Security-Policy', { skip: skipUnless('LOOKOUT_QUERY_DATASET'), timeout: 90_000 }, async () => {
  const query = { calculations: [{ op: 'P99', column: 'duration_ms' }, { op: 'HEATMAP', column: 'duration_ms' }], breakdowns: ['http.route'], time_range: 3600 };
  await page.goto(`${BASE}/query?dataset=${encodeURIComponent(DATASET)}&q=${encodeURIComponent(JSON.stringify(query))}`);
  await page.waitForSelector('.qchart[data-calc="HEATMAP(duration_ms)"][data-cells] canvas', { timeout: 20_000 });
  // Hover every cell of the heatmap's lowest row with data, then the line chart: each shows a tooltip.
  const cell = await page.evaluate(() => {
    const el = document.querySelector('.qchart[data-calc="HEATMAP(duration_ms)"]');
    const chart = window.echarts.getInstanceByDom(el);
    const r = el.getBoundingClientRect();
    const [t0, t1, lo, hi] = chart.getOption().series[0].data[0];
    const [x, y] = chart.convertToPixel({ gridIndex: 0 }, [(t0 + t1) / 2, (lo + hi) / 2]);
    return { x: r.left + x, y: r.top + y };
  });
  await page.mouse.move(cell.x, cell.y);
  const heatTip = '.qchart[data-calc="HEATMAP(duration_ms)"] .chart-tt';
  await page.waitForSelector(`${heatTip} .tt-title`, { state: 'visible', timeout: 5_000 });
  assert.match(await page.textContent(heatTip), /\d\d:\d\d:\d\d – \d\d:\d\d:\d\d.*[\d.]+(µs|ms|s) – [\d.]+(µs|ms|s): \d+ events?/);
  const line = await page.$eval('.qchart[data-calc="P99(duration_ms)"]', (el) => { const r = el.getBoundingClientRect(); return { x: r.left + r.width * 0.6, y: r.top + r.height * 0.6 }; });
  for (let k = 0; k < 20; k++) await page.mouse.move(line.x + k * 10, line.y, { steps: 2 });
  await page.waitForSelector('.qchart[data-calc="P99(duration_ms)"] .chart-tt .tt-rows', { state: 'visible', timeout: 5_000 });
  const tt = await page.$eval('.qchart[data-calc="P99(duration_ms)"] .chart-tt', (el) => ({
    text: el.textContent, swatch: getComputedStyle(el.querySelector('.tt-swatch')).backgroundColor,
    num: getComputedStyle(el.querySelector('.tt-num')).textAlign, bg: getComputedStyle(el).backgroundColor,
  }));
  assert.match(tt.text, /\/api\/\S+\d+(\.\d+)?(ms|s)/, tt.text);
  assert.notEqual(tt.swatch, 'rgba(0, 0, 0, 0)', 'series swatches are coloured');
  assert.equal(tt.num, 'right');
  assert.equal(tt.bg, 'rgb(255, 255, 255)', 'the tooltip box is styled');
  assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violation while hovering');
  await shot('query-tooltip.png');
});

test('a result row leads to its events and their traces', { skip: skipUnless('LOOKOUT_QUERY_DATASET'), timeout: 90_000 }, async () => {
  const query = { calculations: [{ op: 'COUNT' }], breakdowns: ['http.route'], filters: [{ column: 'error', op: '=', value: true }], time_range: 3600 };
  await page.goto(`${BASE}/query?dataset=${encodeURIComponent(DATASET)}&q=${encodeURIComponent(JSON.stringify(query))}`);
  await page.waitForSelector('.qtable tbody tr', { timeout: 20_000 });
  await page.click('.qtable tbody tr >> text=events');
  await page.waitForSelector('.qtable.events tbody tr', { timeout: 20_000 });
  const events = await page.$$eval('.qtable.events tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.equal(events.length, 40);
  assert.ok(events.every((e) => e[2] === 'GET /api/checkout'), events.map((e) => e[2]).join());
  assert.ok(events.every((e) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(e[0])), `times as YYYY-MM-DD HH:MM:SS.mmm: ${events[0][0]}`);
  const durations = events.map((e) => e[3]);
  assert.ok(durations.every((d) => /^[\d,]+(\.\d+)?ms$/.test(d)), `durations in ms: ${durations}`);
  assert.equal(new Set(durations.map((d) => (/\.(\d+)/.exec(d) || ['', ''])[1].length)).size, 1, `one precision: ${durations}`);
  await assertTimesAre24h();
  await shot('query-events.png');
  await page.click('.qtable.events tbody tr a.mono');
  await page.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
});

test('the X-Ray page maps both worlds\' services and counts the datagrams; an unended segment says why', { skip: skipUnless('LOOKOUT_XRAY_SERVICE', 'LOOKOUT_XRAY_IN_PROGRESS_TRACE_ID'), timeout: 90_000 }, async () => {
  const xr = env.LOOKOUT_XRAY_SERVICE;
  await page.goto(`${BASE}/xray`);
  await page.waitForSelector(`.xr-node[data-name="${xr}"]`, { timeout: 60_000 });
  const names = await page.$$eval('.xr-node', (ns) => ns.map((n) => n.getAttribute('data-name')));
  for (const want of ['client', 'postgres', 'DynamoDB', 'payments']) assert.ok(names.includes(want), `${want} not on the map: ${names}`);
  if (SERVICE) assert.ok(names.includes(SERVICE), `the OpenTelemetry service ${SERVICE} is not on the map: ${names}`);
  const udp = await page.$$eval('tr[data-via="udp"] td', (tds) => tds.map((td) => Number(td.textContent.replace(/,/g, ''))));
  const [received, stored, dropped, refused] = udp;
  assert.ok(received >= 10 && refused >= 1 && received === stored + dropped + refused, `UDP counters: ${udp}`);
  assert.match(await page.textContent('#xray-problems'), /InvalidTraceId/);
  assert.match(await page.textContent('#xray-rules tr[data-rule="Default"]'), /10000\s*\* \* \* \* \*\s*1\/s then 5 %/);
  // The rule's requests, samples and borrows in the hour and a second in its last minute,
  // and a line of the hour whose label names its most, at least the report the test sent
  // (the demo's SDK may add its own).
  if (env.LOOKOUT_XRAY_RULE_PEAK) {
    const row = '#xray-rules tr[data-rule="Default"]';
    const label = await page.getAttribute(`${row} .xray-rates svg.spark`, 'aria-label');
    const most = /at most ([\d,.]+)\/s$/.exec(label);
    assert.ok(most && Number(most[1].replace(/,/g, '')) >= parseFloat(env.LOOKOUT_XRAY_RULE_PEAK), `${label}, want at most ${env.LOOKOUT_XRAY_RULE_PEAK} or more`);
    const requests = /^([\d,]+) · [\d,.]+\/s$/.exec(await page.textContent(`${row} .xray-requests`));
    assert.ok(requests && Number(requests[1].replace(/,/g, '')) >= Number(env.LOOKOUT_XRAY_RULE_REQUESTS), `requests cell ${requests}, want ${env.LOOKOUT_XRAY_RULE_REQUESTS} or more`);
  }
  assert.match(await page.textContent('#xray-note'), /^Drawn from .* traces/);
  // A service takes the keyboard's focus, and Enter chooses it as a click does.
  await page.focus('.xr-node[data-name="payments"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#xray-filter').value === 'service("payments")');
  await page.click(`.xr-node[data-name="${xr}"]`);
  await page.waitForSelector('#xray-detail .kv');
  assert.match(await page.textContent('#xray-detail'), /Faults \(5xx\)\s*1/);
  // Clicking a node lists its traces by filter expression: four complete, one in progress.
  assert.equal(await page.inputValue('#xray-filter'), `service("${xr}")`);
  await page.waitForFunction(() => document.querySelectorAll('.xray-trace').length === 5, null, { timeout: 30_000 });
  assert.equal(await page.locator('.xray-trace .badge-error').count(), 1, 'one fault');
  assert.equal(await page.locator('.xray-trace .badge-incomplete').count(), 1, 'one still in progress');
  const map = await assertMapLegible();
  assert.ok(map.callLabels.some((c) => c.from === xr && c.to === 'payments'), 'the call to payments has its label');
  await page.hover('.xr-node[data-name="payments"]');
  await page.waitForTimeout(200);
  await shot('xray-service-map.png');

  // The response times of the traces found (not of the one in progress); dragging across the
  // bars of the two fastest narrows the filter to their range, which finds those two.
  if (env.LOOKOUT_XRAY_RESPONSE_TIMES) {
    const sent = env.LOOKOUT_XRAY_RESPONSE_TIMES.split(/\s+/).map(Number).sort((a, b) => a - b);
    await page.waitForSelector('#xray-dist canvas');
    const counts = (await page.getAttribute('#xray-dist', 'data-counts')).split(',').map(Number);
    assert.equal(counts.reduce((a, b) => a + b), sent.length, `the complete traces: ${counts}`);
    const filled = counts.flatMap((n, k) => (n ? [k] : []));
    const [x0, x1] = await page.evaluate((bins) => {
      const chart = window.echarts.getInstanceByDom(document.querySelector('#xray-dist'));
      return bins.map((k) => chart.convertToPixel({ xAxisIndex: 0 }, k));
    }, [filled[0], filled[1]]);
    await page.$eval('.xray-h', (el) => el.scrollIntoView({ block: 'start' })); // the traces' heading
    const box = await page.locator('#xray-dist').boundingBox();
    await page.mouse.move(box.x + x0, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + x1, box.y + 100, { steps: 4 });
    await shot('xray-response-times.png');
    await page.mouse.up();
    await page.waitForFunction(() => /responsetime >=/.test(document.querySelector('#xray-filter').value));
    const filter = await page.inputValue('#xray-filter');
    const m = new RegExp(`^service\\("${xr}"\\) AND responsetime >= ([\\d.]+) AND responsetime <= ([\\d.]+)$`).exec(filter);
    assert.ok(m, `the range is ANDed to the filter: ${filter}`);
    const within = sent.filter((v) => v >= Number(m[1]) && v <= Number(m[2]));
    assert.deepEqual(within, sent.slice(0, 2), `the range covers the two fastest: ${filter}`);
    await page.waitForFunction((n) => document.querySelectorAll('.xray-trace').length === n, within.length, { timeout: 30_000 });
    assert.equal(await page.locator('.xray-trace .badge-incomplete').count(), 0, 'no response time, so out of any range');
  }

  // A call's label answers clicks as its line does.
  await page.click(`.xr-edge-label[data-from="${xr}"][data-to="payments"]`);
  await page.waitForFunction(() => /→/.test(document.querySelector('#xray-detail h3')?.textContent));
  assert.equal(await page.textContent('#xray-detail h3'), `${xr} → payments`);
  assert.equal(await page.inputValue('#xray-filter'), `edge("${xr}", "payments")`);

  // A filter that does not parse says where.
  await page.fill('#xray-filter', 'service("x") { fault AND responsetime > }');
  await page.click('#xray-find');
  await page.waitForSelector('#xray-filter-error:not([hidden])');
  assert.match(await page.textContent('#xray-filter-error'), /at position 40: responsetime compares with a number/);
  assert.match(await page.textContent('.xray-caret'), /\n {40}\^$/);

  await openTrace(env.LOOKOUT_XRAY_IN_PROGRESS_TRACE_ID);
  assert.match(await page.textContent('.trace-warnings'), /still in progress: begun but never ended/);
  assert.match(await page.textContent('.wf-row.is-in-progress'), /in progress, never ended/);
  // Its detail lists the segment's annotation and, a tag a namespace, its metadata.
  await page.click('.wf-row.is-in-progress .wf-op');
  await page.waitForSelector('.span-panel .detail');
  const tags = await page.$$eval('.span-panel tr', (rows) => Object.fromEntries(rows
    .filter((r) => r.querySelector('.kv-key'))
    .map((r) => [r.querySelector('.kv-key').textContent, r.querySelector('.kv-value').textContent])));
  assert.equal(tags.order_id, 'o-17');
  assert.equal(tags['aws.xray.metadata.debug'], '{"cart":{"items":2}}');
  await shot('xray-in-progress.png');
});

// assertMapLegible checks the service map as drawn: every call's label clear of every other
// label (the nodes' names and figures, and the other calls'), and every node's label clear
// of every line but its own node's calls. Returns the boxes, by kind.
async function assertMapLegible() {
  const map = await page.$eval('#service-map svg', (svg) => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, w: r.width, h: r.height };
    };
    return {
      nodeLabels: [...svg.querySelectorAll('.xr-node')].flatMap((g) => [...g.querySelectorAll('.xr-node-label, .xr-node-sub')]
        .map((t) => ({ ...box(t), text: t.textContent, node: g.dataset.name }))),
      callLabels: [...svg.querySelectorAll('.xr-edge-label')].map((g) => ({ ...box(g.querySelector('rect')), text: g.querySelector('text').textContent, from: g.dataset.from, to: g.dataset.to })),
      lines: [...svg.querySelectorAll('.xr-edge')].map((g) => {
        const path = g.querySelector('.xr-edge-line');
        const m = path.getScreenCTM();
        const len = path.getTotalLength();
        const points = Array.from({ length: 200 }, (_, k) => path.getPointAtLength((len * k) / 199)).map((p) => p.matrixTransform(m));
        return { from: g.dataset.from, to: g.dataset.to, points: points.map((p) => ({ x: p.x, y: p.y })) };
      }),
    };
  });
  const apart = (a, b) => a.x + a.w <= b.x + 0.5 || b.x + b.w <= a.x + 0.5 || a.y + a.h <= b.y + 0.5 || b.y + b.h <= a.y + 0.5;
  for (const c of map.callLabels) {
    for (const n of map.nodeLabels) assert.ok(apart(c, n), `the label of ${c.from} → ${c.to} covers ${n.node}'s "${n.text}"`);
    for (const d of map.callLabels) assert.ok(c === d || apart(c, d), `the labels of ${c.from} → ${c.to} and ${d.from} → ${d.to} overlap`);
  }
  for (const l of map.lines) {
    for (const n of map.nodeLabels) {
      if (n.node === l.from || n.node === l.to) continue;
      const p = l.points.find((q) => q.x > n.x && q.x < n.x + n.w && q.y > n.y && q.y < n.y + n.h);
      assert.ok(!p, `${l.from} → ${l.to} runs through ${n.node}'s "${n.text}"`);
    }
  }
  return map;
}

const ERROR_TRACE_ID = env.LOOKOUT_ERROR_TRACE_ID || '';
const ERROR_PROJECT = env.LOOKOUT_ERROR_PROJECT || '';
const ERROR_TITLE = "KeyError: '<img src=x onerror=alert(3)>'";

test('the errors page lists items with counts and sparklines, filters them, and opens an item', { skip: skipUnless('LOOKOUT_ERROR_TRACE_ID', 'LOOKOUT_ERROR_PROJECT'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/errors?project=${encodeURIComponent(ERROR_PROJECT)}`);
  await page.waitForSelector('.errors-table tbody tr');
  const rows = await page.$$eval('.errors-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  assert.equal(rows.length, 3, `three active items: ${JSON.stringify(rows)}`);
  const flask = rows.find((r) => r[0].includes(ERROR_TITLE));
  assert.ok(flask, `the Flask error is listed with its markup as text: ${JSON.stringify(rows)}`);
  assert.deepEqual([flask[1], flask[2], flask[3], flask[4]], ['error', 'production', '5', '3']);
  assert.equal(await page.$$eval('.errors-table svg.spark polyline', (ps) => ps.length), 3);
  assert.equal(await page.$('.errors-page img'), null, 'no markup became an element');
  await shot('errors.png');

  await page.selectOption('select[name=sort]', 'count');
  await page.waitForFunction(() => /sort=count/.test(location.search));
  await page.waitForFunction(() => document.querySelector('.errors-table tbody tr td').textContent.includes('KeyError'));
  await page.selectOption('select[name=level]', 'warning');
  await page.waitForFunction(() => document.querySelectorAll('.errors-table tbody tr').length === 1);
  assert.match(await page.textContent('.errors-table tbody'), /cache miss rate above 90%/);

  await page.waitForSelector('.errors-releases table');
  const versions = await page.$$eval('.errors-releases section:first-child tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  assert.deepEqual(versions.map((r) => [r[0], r[3], r[4]]).sort(), [['1.4.0', '3', '1'], ['1.4.1', '2', '0']], 'each version with its occurrences and new items');
  assert.match(await page.textContent('.errors-releases'), /1\.4\.1.*succeeded.*andrew.*ship the home feed/s);
  await shot('errors-versions.png');
});

test('the access page makes a Rollbar token, shows it whole once, and the token works', { skip: skipUnless('LOOKOUT_ERROR_PROJECT', 'LOOKOUT_INGEST_URL'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/errors`);
  await page.click('a[href="/errors/access"]');
  await page.waitForSelector('.access-tokens tbody tr');
  assert.match(await page.textContent('#access-state'), /accepts any access token/);
  const rows = () => page.$$eval('.access-tokens tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  const before = await rows();
  assert.ok(before.some((r) => r[0] === ERROR_PROJECT && r[2] === 'brow…' && r[4] === 'seen from a client'), JSON.stringify(before));
  assert.equal(await page.$$eval('.access-tokens button', (bs) => bs.length), 0, 'no revoking while any token is accepted');
  await page.fill('.access-form input[name=project]', 'cruddur-browser');
  await page.fill('.access-form input[name=name]', 'backend-flask');
  await page.check('.access-form input[value=read]');
  await page.click('.access-form button[type=submit]');
  await page.waitForSelector('#new-token');
  const token = (await page.textContent('#new-token')).trim();
  assert.match(token, /^[0-9a-f]{32}$/);
  await page.waitForFunction((n) => document.querySelectorAll('.access-tokens tbody tr').length === n, before.length + 1);
  const made = (await rows()).find((r) => r[0] === 'cruddur-browser');
  assert.deepEqual(made.slice(1, 5), ['backend-flask', `${token.slice(0, 4)}…`, 'post_server_item, read', 'made here']);
  assert.equal((await page.textContent('.access-tokens')).includes(token), false, 'the list shows only the first characters');
  await shot('errors-access.png');

  const res = await fetch(`${env.LOOKOUT_INGEST_URL}/api/1/item/`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ access_token: token, data: { environment: 'production', body: { message: { body: 'posted with a token made in the UI' } } } }) });
  assert.equal(res.status, 200);
  let titles = [];
  for (let i = 0; i < 50 && !titles.length; i++) {
    const list = await (await fetch(`${env.LOOKOUT_INGEST_URL}/api/1/items/`, { headers: { 'X-Rollbar-Access-Token': token } })).json();
    titles = list.result.items.map((it) => it.title);
    if (!titles.length) await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(titles, ['posted with a token made in the UI'], 'the new token posts and reads its project');
});

test('an item page shows the stack as text, the request and history, links to its trace, and resolves', { skip: skipUnless('LOOKOUT_ERROR_TRACE_ID', 'LOOKOUT_ERROR_PROJECT'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/errors?q=KeyError&project=${encodeURIComponent(ERROR_PROJECT)}`);
  await page.waitForSelector('.errors-table tbody tr a');
  await page.click('.errors-table tbody tr a');
  await page.waitForSelector('.error-title');
  assert.equal(await page.textContent('.error-title'), ERROR_TITLE);
  assert.equal(await page.$('.error-page img'), null, 'no markup became an element');
  const frames = await page.$$eval('.exception .frame summary', (ss) => ss.map((s) => s.textContent));
  assert.deepEqual(frames, ['/srv/app/services/home.py:41 in data_home', '/usr/lib/python3.11/site-packages/flask/app.py:917 in full_dispatch_request'], 'most recent frame first');
  assert.match(await page.textContent('.frame[open] .frame-line'), /41 {2}return results\[user\['id'\]\]/);
  assert.match(await page.textContent('.error-page'), /GET http:\/\/cruddur.example\/api\/activities\/home/);
  assert.equal(await page.$$eval('svg.occ-bars rect[height]:not([height="0.0"])', (rs) => rs.length) >= 2, true, 'the hourly graph has bars');
  const traceLogs = await apiData(`/api/v1/logs?traceID=${ERROR_TRACE_ID}`);
  await page.waitForFunction((n) => document.querySelector('.error-page').textContent.includes(`Log lines of this request (${n})`), traceLogs.length);
  assert.match(await page.textContent('.error-page'), /home feed failed for andrew/);
  const href = await page.getAttribute('.trace-link', 'href');
  assert.ok(href.startsWith(`/trace/${ERROR_TRACE_ID}?span=`), href);
  await shot('error-item.png');

  await page.fill('.version-input', '1.4.2');
  await page.click('.error-actions .btn-primary');
  await page.waitForFunction(() => document.querySelector('.error-facts .st')?.textContent === 'resolved');
  assert.match(await page.textContent('.history'), /resolved in 1\.4\.2 by web UI/);

  const itemPath = new URL(page.url()).pathname;
  await page.click('.trace-link');
  await page.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
  assert.ok(page.url().includes(`/trace/${ERROR_TRACE_ID}`));
  await page.waitForSelector('.trace-errors a');
  assert.match(await page.textContent('.trace-errors'), /#1 KeyError: '<img src=x onerror=alert\(3\)>'/, 'the trace links back to its error item');

  // The span the occurrence names is flagged on the waterfall and lists the item in its detail.
  if (env.LOOKOUT_ERROR_SPAN_ID) {
    await page.waitForSelector('.wf-items:not([hidden])');
    const flagged = await page.$$eval('.wf-row', (rows) => rows.filter((r) => !r.querySelector('.wf-items').hidden).map((r) => [r.dataset.spanId, r.querySelector('.wf-items').textContent]));
    assert.deepEqual(flagged, [[env.LOOKOUT_ERROR_SPAN_ID, '1']], 'only the span of the occurrence is flagged, with its one item');
    assert.equal(await page.getAttribute('.detail', 'data-span-id'), env.LOOKOUT_ERROR_SPAN_ID, 'the item\'s trace link opens its span');
    const listed = await page.$$eval('[data-section="span-errors"] a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent]));
    assert.deepEqual(listed, [[itemPath, `error #1 ${ERROR_TITLE}`]]);
    assert.equal(await page.$('.span-panel img'), null, 'no markup became an element');
  }
  await shot('trace-errors.png');
});

test('an item page lists every occurrence, a page at a time', { skip: skipUnless('LOOKOUT_PAGED_ITEM', 'LOOKOUT_PAGED_ITEM_OCCURRENCES'), timeout: 60_000 }, async () => {
  const total = Number(env.LOOKOUT_PAGED_ITEM_OCCURRENCES);
  await page.goto(`${BASE}/errors/${env.LOOKOUT_PAGED_ITEM}`);
  await page.waitForSelector('.occ-list tbody tr');
  const persons = () => page.$$eval('.occ-list tbody tr', (trs) => trs.map((tr) => tr.cells[3].textContent));
  const first = await persons();
  assert.ok(first.length < total, `${first.length} of ${total} at first`);
  assert.equal(await page.textContent('.occ-list h2'), `Occurrences (latest ${first.length} of ${total})`);
  assert.equal(await page.textContent('.occ-more'), `Show ${Math.min(first.length, total - first.length)} older`);
  await page.locator('.occ-more').scrollIntoViewIfNeeded();
  await shot('error-item-occurrences.png');
  for (let clicks = 0; await page.isVisible('.occ-more'); clicks++) {
    assert.ok(clicks < total, 'the pages end');
    const n = (await persons()).length;
    await page.click('.occ-more');
    await page.waitForFunction((k) => document.querySelectorAll('.occ-list tbody tr').length > k, n);
  }
  // Person p{i} reported the i-th, so newest first is p{total-1} … p0, each once.
  const want = Array.from({ length: total }, (_, i) => `p${total - 1 - i}`);
  assert.deepEqual(await persons(), want);
  assert.equal(await page.textContent('.occ-list h2'), `Occurrences (${total})`);
});

/** apiData fetches a path of lookout's JSON API and returns its data. */
async function apiData(pathAndQuery) {
  const res = await fetch(`${BASE}${pathAndQuery}`);
  assert.equal(res.status, 200, pathAndQuery);
  return (await res.json()).data;
}

/** sendLogs sends OTLP/JSON log records of service to LOOKOUT_INGEST_URL. */
async function sendLogs(service, records) {
  const body = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeLogs: [{ logRecords: records }] }] };
  const res = await fetch(`${env.LOOKOUT_INGEST_URL}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
}

test('a trace\'s log lines are marks on their spans\' rows, gathered when they crowd', { skip: skipUnless('LOOKOUT_SMALL_TRACE_ID', 'LOOKOUT_INGEST_URL'), timeout: 60_000 }, async () => {
  const [trace] = await apiData(`/api/traces/${SMALL_ID}`);
  const spans = [...trace.spans].sort((a, b) => a.startTime - b.startTime);
  const root = spans.find((s) => !s.references.length);
  // Span k gets k+1 lines spread over it; the longest leaf a burst of 30 within 30 µs; one
  // line names no span; one is markup.
  const records = [];
  const line = (us, text, spanId, severityText = 'INFO') => records.push({ timeUnixNano: `${us}000`, severityText, body: { stringValue: text }, traceId: SMALL_ID, ...(spanId ? { spanId } : {}) });
  spans.forEach((s, k) => { for (let j = 0; j <= k; j++) line(s.startTime + Math.floor((s.duration * (j + 1)) / (k + 2)), `${s.operationName} step ${j}`, s.spanID); });
  const leaves = spans.filter((s) => !spans.some((c) => c.references.some((r) => r.spanID === s.spanID)));
  const burst = leaves.reduce((a, b) => (b.duration > a.duration ? b : a));
  for (let j = 0; j < 30; j++) line(burst.startTime + Math.floor(burst.duration / 2) + j, `burst line ${String(j).padStart(2, '0')}`, burst.spanID, 'DEBUG');
  line(root.startTime + Math.floor(root.duration / 3), 'no span named here', null);
  line(burst.startTime + 1, XSS, burst.spanID, 'ERROR');
  const before = (await apiData(`/api/v1/logs?traceID=${SMALL_ID}&limit=1000`)).length;
  await sendLogs('e2e-marks', records);
  let logs = [];
  for (let t0 = Date.now(); logs.length < before + records.length && Date.now() - t0 < 15_000; await new Promise((r) => setTimeout(r, 200))) {
    logs = await apiData(`/api/v1/logs?traceID=${SMALL_ID}&limit=1000`);
  }
  assert.equal(logs.length, before + records.length, 'the lines are in');
  // Where each line belongs: its span's row, else the root's.
  const want = new Map();
  for (const r of logs) {
    const id = spans.some((s) => s.spanID === r.spanID) ? r.spanID : root.spanID;
    want.set(id, (want.get(id) || 0) + 1);
  }

  await openTrace(SMALL_ID);
  await page.waitForSelector('.wf-mark');
  const rows = await page.$$eval('.wf-row', (rs) => rs.map((r) => [r.dataset.spanId,
    [...r.querySelectorAll('.wf-mark')].reduce((n, m) => n + Number(m.dataset.count), 0), r.querySelectorAll('.wf-mark').length]));
  assert.deepEqual(new Map(rows.filter(([, n]) => n).map(([id, n]) => [id, n])), want, 'every line on its span\'s row');
  const counts = await page.$$eval(`.wf-row[data-span-id="${burst.spanID}"] .wf-mark`, (ms) => ms.map((m) => Number(m.dataset.count)));
  assert.ok(Math.max(...counts) >= 30, `the burst of 30 lines within 30 µs is one mark: ${counts}`);

  // Hovering a crowd lists its first lines; markup stays text.
  const crowd = `.wf-row[data-span-id="${burst.spanID}"] .wf-mark.is-cluster`;
  const biggest = await page.$$eval(crowd, (ms) => ms.reduce((best, m, k, all) => (Number(m.dataset.count) > Number(all[best].dataset.count) ? k : best), 0));
  await page.locator(crowd).nth(biggest).hover();
  await page.waitForSelector('.wf-tip:not([hidden])');
  const tip = await page.textContent('.wf-tip');
  assert.match(tip, /burst line 00/);
  assert.match(tip, /and \d+ more/);
  await page.locator(`.wf-row[data-span-id="${burst.spanID}"] .wf-mark.is-error`).first().hover();
  await page.waitForFunction((x) => document.querySelector('.wf-tip').textContent.includes(x), XSS);
  assert.equal(await page.$('.wf img'), null, 'no markup became an element');
  await shot('trace-logs.png');

  // Clicking a mark opens its span's detail, with its lines.
  await page.locator(crowd).nth(biggest).click();
  await page.waitForSelector(`.detail[data-span-id="${burst.spanID}"]`);
  assert.equal(await page.textContent('[data-section="span-logs"] .count'), String(want.get(burst.spanID)));
});

const LOG_GROUP = env.LOOKOUT_LOG_GROUP || '';

/** sendLogLine sends one OTLP/JSON log record to LOOKOUT_LOG_GROUP. */
async function sendLogLine(text) {
  const body = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: LOG_GROUP } }] },
    scopeLogs: [{ logRecords: [{ timeUnixNano: `${Date.now()}000000`, body: { stringValue: text } }] }] }] };
  const res = await fetch(`${env.LOOKOUT_INGEST_URL}/v1/logs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
}

test('the log pages: groups, a filter pattern and its errors, a line and its trace, live tail', { skip: skipUnless('LOOKOUT_LOG_GROUP', 'LOOKOUT_EMPTY_LOG_GROUP', 'LOOKOUT_LOG_TRACE_ID', 'LOOKOUT_INGEST_URL'), timeout: 90_000 }, async () => {
  await page.goto(`${BASE}/logs`);
  await page.waitForSelector('.logs-table');
  const note = await page.textContent('.logs-note');
  assert.match(note, /holds no events yet/);
  assert.match(note, /“web-7f9c\/node\/1” was refused/);
  await shot('logs-groups.png');

  await page.click(`a[href="/logs/${encodeURIComponent(LOG_GROUP)}"]`);
  await page.waitForSelector('.logs-line');
  assert.equal(await page.$$eval('.logs-line', (ls) => ls.length), 4);
  await page.waitForSelector('.logs-stream-table');
  assert.match(await page.textContent('.logs-streams summary'), /^3 streams, 1 without events yet$/);
  const streams = await page.$$eval('.logs-stream-table tr[data-stream]', (trs) => trs.map((tr) => [tr.dataset.stream, tr.cells[1].textContent]));
  assert.deepEqual(streams.sort(), [['default', '3'], ['web-1/app/7', '1'], ['web-2/app/9', '0']]);
  assert.match(await page.textContent('.logs-stream-table .logs-note'), /holds no events yet/);
  await page.click('.logs-stream-table tr[data-stream="web-1/app/7"] button');
  await page.waitForFunction(() => document.querySelectorAll('.logs-line').length === 1);
  assert.deepEqual(await page.$$eval('.logs-msg', (els) => els.map((e) => e.textContent)), ['worker web-1 started']);
  assert.match(page.url(), /stream=web-1%2Fapp%2F7/);
  await shot('logs-streams.png');
  await page.click('.logs-stream-chip button');
  await page.waitForFunction(() => document.querySelectorAll('.logs-line').length === 4);

  // Dragging across the histogram narrows the time range; its chip goes back to the hour.
  await page.waitForSelector('.logs-histogram canvas');
  const drag = async (from, to) => { // fractions of the plot's width (the chart's grid: 48 px left, 12 right)
    const r = await page.$eval('.logs-histogram', (el) => { const b = el.getBoundingClientRect(); return { x: b.left, y: b.top + b.height / 2, w: b.width }; });
    const x = (f) => r.x + 48 + f * (r.w - 60);
    await page.mouse.move(x(from), r.y);
    await page.mouse.down();
    await page.mouse.move(x(to), r.y, { steps: 5 });
    await page.mouse.up();
  };
  await drag(0.05, 0.5); // the hour's first half: the lines came five minutes ago
  await page.waitForSelector('.logs-empty');
  assert.match(page.url(), /start=\d+&end=\d+/);
  assert.ok(await page.$('.logs-range-chip .chip'));
  await page.click('.logs-range-chip button');
  await page.waitForFunction(() => document.querySelectorAll('.logs-line').length === 4);
  assert.doesNotMatch(page.url(), /start=/);
  await drag(0.75, 0.999); // the hour's last quarter holds them all
  await page.waitForFunction(() => /start=/.test(location.search) && document.querySelectorAll('.logs-line').length === 4);
  await page.click('.logs-range-chip button');
  await page.waitForFunction(() => !/start=/.test(location.search));

  await page.fill('.logs-pattern', '{ $.status >= 500 }');
  await page.click('.logs-toolbar button[type=submit]');
  await page.waitForFunction(() => /1 event matches/.test(document.querySelector('.logs-summary').textContent));
  const msgs = await page.$$eval('.logs-msg', (els) => els.map((e) => e.textContent));
  assert.deepEqual(msgs, ['{"status":503,"path":"/api/checkout","msg":"<img src=x onerror=alert(1)>"}']);
  assert.equal(await page.$$eval('.logs-line img', (els) => els.length), 0, 'hostile text stays text');
  assert.equal(await page.getAttribute('.logs-trace', 'href'), `/trace/${env.LOOKOUT_LOG_TRACE_ID}`);
  assert.match(page.url(), /pattern=/);
  await page.click('.logs-line-head');
  await page.waitForSelector('.logs-detail');
  assert.match(await page.textContent('.logs-detail'), /path\/api\/checkout/);
  await shot('logs-events.png');

  await page.fill('.logs-pattern', '{ $.status >= }');
  await page.click('.logs-toolbar button[type=submit]');
  await page.waitForSelector('.logs-pattern-error:not([hidden])');
  assert.match(await page.textContent('.logs-pattern-error'), /at character 15/);
  assert.equal(await page.textContent('.logs-pattern-echo mark'), '}');
  await shot('logs-pattern-error.png');

  await page.fill('.logs-pattern', 'LIVE');
  await page.click('.logs-toolbar button[type=submit]');
  await page.waitForSelector('.logs-empty');
  await page.click('text=Live tail');
  await page.waitForSelector('.btn.is-active');
  await page.waitForTimeout(300); // the stream opens
  await sendLogLine('not this one');
  await sendLogLine('LIVE line <b>bold?</b>');
  await page.waitForSelector('.logs-line.is-live', { timeout: 10_000 });
  assert.deepEqual(await page.$$eval('.logs-line.is-live .logs-msg', (els) => els.map((e) => e.textContent)), ['LIVE line <b>bold?</b>']);
  await shot('logs-live.png');

  await page.goto(`${BASE}/logs/${encodeURIComponent(env.LOOKOUT_EMPTY_LOG_GROUP)}`);
  await page.waitForSelector('.logs-empty');
  assert.match(await page.textContent('.logs-empty'), /60 seconds/);
});

test('the Insights page runs a query over a group and places a query error', { skip: skipUnless('LOOKOUT_LOG_GROUP'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/insights?group=${encodeURIComponent(LOG_GROUP)}&lookback=1h&query=${encodeURIComponent('filter status >= 500 | stats count(*) as n, max(status) as worst')}`);
  await page.waitForSelector('.insights-table');
  assert.deepEqual(await page.$$eval('.insights-table td', (tds) => tds.map((td) => td.textContent)), ['1', '503']);
  // stats … by bin(): a chart for each statistic, the table's fractions rounded alike.
  await page.fill('.insights-editor', 'filter ispresent(status) | stats count(*) as n, avg(status) as mean by bin(1m)');
  await page.click('.insights-form button[type=submit]');
  await page.waitForSelector('.insights-charts:not([hidden]) .qchart canvas');
  assert.deepEqual(await page.$$eval('.insights-charts .qchart-title', (els) => els.map((e) => e.textContent)), ['n', 'mean']);
  const rows = await page.$$eval('.insights-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => ({ text: td.textContent, title: td.title }))));
  assert.equal(rows.reduce((sum, r) => sum + Number(r[1].text), 0), 2); // the 200 and the 503
  if (rows.length === 1) assert.deepEqual(rows[0][2], { text: '352', title: '351.5' });
  await page.fill('.insights-editor', 'fields status | frobnicate');
  await page.click('.insights-form button[type=submit]');
  await page.waitForSelector('.logs-pattern-error:not([hidden])');
  assert.match(await page.textContent('.logs-pattern-error'), /at character 17: unknown command/);
});

// Cruddur, lookout demo's application, with its troubles switched on one after another
// (internal/server/browser_cruddur_test.go): each must be found from the UI.
const CRUDDUR_FAILED = env.LOOKOUT_CRUDDUR_FAILED_TRACE_ID || '';

test('the sources page names Cruddur\'s troubles, shows its senders by fingerprint, and offers the switch', { skip: skipUnless('LOOKOUT_CRUDDUR_FAILED_TRACE_ID'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/sources`);
  await page.waitForSelector('.warning-list');
  await page.waitForSelector('#demo-trouble');
  const warnings = await page.textContent('.sources-warnings');
  for (const kind of ['two-keys', 'missing-parents', 'fallback-sampling']) {
    assert.ok(await page.$(`.warning[data-kind="${kind}"]`), `no ${kind} warning in: ${warnings}`);
  }
  const protocols = await page.$$eval('.sources-table tbody tr', (trs) => trs.map((tr) => tr.dataset.protocol));
  for (const p of ['otlp', 'xray', 'rollbar', 'cloudwatch-logs']) assert.ok(protocols.includes(p), `no ${p} sender: ${protocols}`);
  const table = await page.textContent('.sources-table');
  assert.match(table, /X-Ray for Go 1\.8\.5/);
  assert.match(table, /rollbar-go/);
  assert.doesNotMatch(table, /cruddurdemoenvkey0001|c0ffee00c0ffee00/, 'a credential is shown whole');
  const options = await page.$$eval('#demo-trouble option', (os) => os.map((o) => o.value));
  assert.deepEqual(options, ['', 'test-key', 'unended-segment', 'missing-return', 'late-logs', 'no-rules']);
  assert.match(await page.textContent('.sources-setup'), /AWS_XRAY_DAEMON_ADDRESS=127\.0\.0\.1:\d+/);
  await shot('sources.png');

  // The subsegments without their segment open as a trace: the subsegment alone.
  await page.locator('.warning[data-kind="missing-parents"]', { hasText: 'X-Ray subsegment' }).locator('a').click();
  await page.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
  const wf = await page.textContent('.wf');
  assert.match(wf, /mock-data/);
  assert.doesNotMatch(wf, /activities/, 'the example is not the subsegment\'s own trace');
  await shot('cruddur-unended-segment.png');
});

test('a view that returned nothing is an error item, linked to its failed trace with its log lines', { skip: skipUnless('LOOKOUT_CRUDDUR_FAILED_TRACE_ID'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/trace/${CRUDDUR_FAILED}`);
  await page.waitForSelector('.wf[data-ready="true"]', { timeout: 30_000 });
  await page.waitForSelector('.trace-errors a');
  assert.match(await page.textContent('.trace-errors'), /did not return a valid response/);
  const rows = await page.textContent('.wf');
  for (const name of ['GET /api/activities/home', 'home-activities-mock-data']) assert.match(rows, new RegExp(name), `the trace lacks ${name}`);
  await page.waitForSelector('.trace-log');
  assert.match(await page.textContent('.trace-logs'), /500 Internal Server Error/);
  await shot('cruddur-trace.png');

  await page.click('.trace-errors a');
  await page.waitForSelector('.error-title');
  assert.match(await page.textContent('.error-title'), /The view function for "data_home" did not return a valid response/);
  assert.match(await page.textContent('.error-page'), /cruddur\.ViewError/);
  await shot('cruddur-error-item.png');
});

test('the X-Ray map draws Cruddur and its frontend', { skip: skipUnless('LOOKOUT_CRUDDUR_FAILED_TRACE_ID'), timeout: 60_000 }, async () => {
  await page.goto(`${BASE}/xray`);
  await page.waitForSelector('.xr-node[data-name="backend-flask"]', { timeout: 30_000 });
  const names = await page.$$eval('.xr-node', (ns) => ns.map((n) => n.getAttribute('data-name')));
  assert.ok(names.includes('frontend-react-js'), `the frontend is not on the map: ${names}`);
  await assertMapLegible();
  // backend-flask calls itself: a loop above its circle, with its count above the loop.
  const loop = await page.$eval('#service-map svg', (svg) => {
    const top = (el) => el.getBoundingClientRect();
    const node = svg.querySelector('.xr-node[data-name="backend-flask"] circle');
    const call = svg.querySelector('.xr-edge[data-from="backend-flask"][data-to="backend-flask"] .xr-edge-line');
    const label = svg.querySelector('.xr-edge-label[data-from="backend-flask"][data-to="backend-flask"]');
    return call && { node: top(node), call: top(call), label: label && top(label), text: label && label.querySelector('text').textContent };
  });
  assert.ok(loop, 'backend-flask\'s calls to itself are not drawn');
  const centre = (loop.node.top + loop.node.bottom) / 2;
  assert.ok(loop.call.bottom < centre && loop.call.top < loop.node.top && loop.call.width < loop.node.width, `a small loop above the node: ${JSON.stringify(loop)}`);
  assert.match(loop.text, /\/min$/);
  assert.ok(loop.label.bottom <= loop.call.top + 1, 'its count above it');
  // The screenshot waits for the traces the page finds on arrival.
  await page.waitForSelector('#xray-traces .xray-trace-list, #xray-traces p', { timeout: 30_000 });
  await shot('cruddur-xray.png');
});
