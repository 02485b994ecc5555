/*
 * The viewer in a real browser: Debian's chromium, headless, driven by puppeteer-core (no browser
 * download). Data comes from the example service run for real. Screenshots go to
 * build/screenshots/ (docs/viewer-screenshot.png is one of them).
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { readOtlpFiles } from '../../src/convert/otlp-input';
import { TraceStore } from '../../src/viewer/trace-store';
import { startViewer, type RunningViewer } from '../../src/viewer/viewer-server';
import { runExampleService } from './example-service-run';
import { CONTINUOUS, profilesRequest } from './hostile-profile';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(__dirname, '..', '..', 'screenshots');

/** The page's duration format (web/app.js fmtNanos), for comparing what it shows. */
function fmtNanos(ns: number): string {
  if (!Number.isFinite(ns) || ns <= 0) return '0 ms';
  if (ns < 1e6) return `${(ns / 1e3).toFixed(0)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

describe('viewer in a browser (chromium, puppeteer-core)', function () {
  this.timeout(180_000);
  let viewer: RunningViewer;
  let store: TraceStore;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      // .ci/run installs it; a developer machine may not have it.
      console.warn(`skipping browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);
      this.skip();
    }
    const run = await runExampleService({ seconds: 3 });
    store = new TraceStore();
    const requests = readOtlpFiles([run.dir]);
    for (const { request } of requests.traces) store.addTraces(request);
    for (const { request } of requests.profiles) store.addProfiles(request);
    viewer = await startViewer({ store, port: 0 });
    mkdirSync(SCREENSHOTS, { recursive: true });
    const puppeteer = require('puppeteer-core') as typeof import('puppeteer-core');
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'osp-chromium-'))}`,
      ],
      defaultViewport: { width: 1400, height: 1000 },
    });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  });

  after(async () => {
    await browser?.close();
    await viewer?.close();
  });

  afterEach(() => assert.deepEqual(pageErrors.splice(0), [], 'errors in the page'));

  /** True when some of the span's own samples ran the /report route's function. */
  function inRoute(spanId: string): boolean {
    return (store.spanSamples(spanId, true) ?? []).some((s) => s.stack.some((id) => store.frames[id].name === 'buildInventoryReport'));
  }

  /** A /report request whose child span "render report" has samples in the route's function, the busiest such. */
  function reportWithBusyChild(): { traceId: string; rootSpanId: string; child: { spanId: string; selfCpuNanos: number } } {
    const candidates = store
      .roots()
      .filter((r) => r.name === 'GET /report')
      .map((root) => ({
        root,
        child: store.trace(root.traceId)!.spans.find((s) => s.name === 'render report' && s.selfCpuNanos > 0 && inRoute(s.spanId)),
      }))
      .filter((c) => c.child !== undefined)
      .sort((a, b) => b.root.cpuNanos - a.root.cpuNanos);
    assert.ok(candidates.length > 0, 'a /report request with samples in its child span');
    return { traceId: candidates[0].root.traceId, rootSpanId: candidates[0].root.rootSpanId, child: candidates[0].child! };
  }

  /** Waits until d3-flame-graph has drawn the graph and its transition has ended. */
  async function flameDrawn(): Promise<void> {
    await page.waitForSelector('#flame svg');
    // The root frame spans the whole graph once the entry transition is over.
    await page.waitForFunction(
      "(() => { const svg = document.querySelector('#flame svg'); const widths = [...svg.querySelectorAll('rect')].map((r) => Number(r.getAttribute('width'))); return widths.length > 0 && Math.max(...widths) >= 0.97 * Number(svg.getAttribute('width')); })()",
    );
  }

  async function textOf(selector: string): Promise<string> {
    return page.$eval(selector, (node) => (node as unknown as { innerText: string }).innerText);
  }

  it('should list the roots (sorted by CPU, searched by trace ID), open one, and narrow the flame graph to a clicked child span', async () => {
    const { traceId, child } = reportWithBusyChild();
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('#roots tbody tr');
    const list = await textOf('#roots');
    for (const route of ['GET /report', 'GET /parse', 'GET /hash']) assert.ok(list.includes(route), route);
    // Sorting by CPU time puts the busiest request first.
    await page.click('#roots th[data-key="cpuNanos"]');
    const cpuOf = new Map(store.roots().map((r) => [r.traceId, r.cpuNanos]));
    const order = await page.$$eval('#roots tbody tr', (rows) => rows.map((row) => row.getAttribute('data-trace-id') ?? ''));
    const cpus = order.map((id) => cpuOf.get(id)!);
    assert.equal(cpus.length, cpuOf.size);
    for (let i = 1; i < cpus.length; i++) assert.ok(cpus[i] <= cpus[i - 1], `row ${i} is out of order`);
    // Search narrows the list to the trace.
    await page.type('#search', traceId.slice(0, 12));
    await page.waitForFunction("document.querySelectorAll('#roots tbody tr').length === 1");
    await page.click(`#roots tr[data-trace-id="${traceId}"]`);
    await page.waitForSelector(`.wf-row[data-span-id="${child.spanId}"]`);
    await flameDrawn();
    assert.equal(new URL(page.url()).pathname, `/trace/${traceId}`);
    const waterfall = await textOf('#waterfall');
    assert.match(waterfall, /GET \/report/);
    assert.match(waterfall, /render report/);
    // The root's flame graph is the whole request: the route's function is in it.
    assert.match(await textOf('#top-functions'), /buildInventoryReport/);
    assert.match(await textOf('#flame-title'), /GET \/report/);
    await page.screenshot({ path: join(SCREENSHOTS, 'trace-root.png'), fullPage: true });

    await page.click(`.wf-row[data-span-id="${child.spanId}"]`);
    await page.waitForFunction("document.getElementById('flame-title').innerText.includes('render report')");
    await flameDrawn();
    assert.equal(new URL(page.url()).pathname, `/span/${child.spanId}`);
    assert.ok(await page.$eval(`.wf-row[data-span-id="${child.spanId}"]`, (row) => row.classList.contains('selected')));
    // The span's own CPU, in its waterfall row and in the flame graph's title.
    const cpu = fmtNanos(child.selfCpuNanos);
    assert.equal((await textOf(`.wf-row[data-span-id="${child.spanId}"] .wf-cpu`)).trim(), cpu);
    assert.match(await textOf('#flame-title'), new RegExp(`CPU ${cpu.replace('.', '\\.')}`));
    const frames = await page.$$eval('#flame svg title', (titles) => titles.map((t) => t.textContent ?? ''));
    assert.ok(
      frames.some((f) => f.includes('buildInventoryReport')),
      frames.join('\n'),
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'trace-child-span.png'), fullPage: true });
  });

  it('should open a span from its deep link and search the flame graph', async () => {
    const { child } = reportWithBusyChild();
    await page.goto(`${viewer.url}/span/${child.spanId}`);
    await flameDrawn();
    assert.ok(await page.$eval(`.wf-row[data-span-id="${child.spanId}"]`, (row) => row.classList.contains('selected')));
    await page.type('#flame-search', 'buildInventoryReport');
    await page.waitForFunction("/of|%/.test(document.getElementById('flame-details').innerText)");
  });

  it("should merge every request of one root span name with the route's function holding most of it, and zoom into a frame and back", async () => {
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('#aggregates tr[data-name="GET /hash"]');
    await page.click('#aggregates tr[data-name="GET /hash"]');
    await flameDrawn();
    assert.equal(new URL(page.url()).pathname, `/name/${encodeURIComponent('GET /hash')}`);
    // The route's function holds most of the merged graph. Not "first by self CPU": that depends on
    // the engine (the native one sees the time inside crypto's digest and update, below it).
    const share = Number(
      await page.evaluate(`(() => {
        const width = Number(document.querySelector('#flame svg').getAttribute('width'));
        const frames = [...document.querySelectorAll('#flame svg g.frame')].filter((g) => (g.getAttribute('name') || '').startsWith('deriveKeyChain'));
        return frames.reduce((sum, g) => sum + Number(g.querySelector('rect').getAttribute('width')), 0) / width;
      })()`),
    );
    const top = await page.$$eval('#top-functions tbody tr td.fn', (cells) => cells.map((c) => c.textContent ?? ''));
    assert.ok(share >= 0.5, `deriveKeyChain holds ${(share * 100).toFixed(1)}% of the graph; top functions: ${top.slice(0, 5).join(', ')}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'all-get-hash.png'), fullPage: true });
    // Zoom: clicking the route's function's widest frame widens it to the whole graph.
    const widest = `(() => {
      const frames = [...document.querySelectorAll('#flame svg g.frame')].filter((g) => (g.getAttribute('name') || '').startsWith('deriveKeyChain'));
      return frames.sort((a, b) => Number(b.querySelector('rect').getAttribute('width')) - Number(a.querySelector('rect').getAttribute('width')))[0];
    })()`;
    const before = await page.evaluate(`${widest}.querySelector('rect').getAttribute('width')`);
    await page.evaluate(`${widest}.dispatchEvent(new MouseEvent('click', { bubbles: true }))`);
    await page.waitForFunction(
      `Number(${widest}.querySelector('rect').getAttribute('width')) >= 0.97 * Number(document.querySelector('#flame svg').getAttribute('width'))`,
    );
    assert.ok(
      Number(before) < 0.97 * Number(await page.$eval('#flame svg', (svg) => svg.getAttribute('width'))),
      'the frame was not already full width',
    );
    await page.click('#flame-reset');
    await page.waitForFunction(
      `Number(${widest}.querySelector('rect').getAttribute('width')) < 0.97 * Number(document.querySelector('#flame svg').getAttribute('width'))`,
    );
  });
  it('should search function names as plain text: a name full of RegExp syntax highlights, and nothing throws (issue 21 §3)', async () => {
    const hostile = 'get [Symbol.iterator(';
    store.addProfiles(profilesRequest({ functions: ['handle (*+?', hostile], values: [3_000_000], rootSpanName: 'GET /hostile' }).request);
    await page.goto(`${viewer.url}/name/${encodeURIComponent('GET /hostile')}`);
    await flameDrawn();
    const rows = await page.$$eval('#top-functions tbody tr td.fn', (cells) => cells.map((c) => c.textContent ?? ''));
    assert.ok(rows.includes(hostile), rows.join(', '));
    // Clicking the top-functions row searches for its name.
    await page.evaluate(
      `[...document.querySelectorAll('#top-functions tbody tr')].find((tr) => tr.querySelector('td.fn').textContent === ${JSON.stringify(hostile)}).click()`,
    );
    await page.waitForFunction("/search: .* of .* total/.test(document.getElementById('flame-details').innerText)");
    assert.match(await textOf('#flame-details'), /search: 3000000 of 3000000 total/);
    await page.screenshot({ path: join(SCREENSHOTS, 'search-regexp-syntax.png'), fullPage: true });
    // Typed text too: '(*+?' is a broken RegExp, here it is a part of a name.
    await page.$eval('#flame-search', (input) => ((input as unknown as { value: string }).value = ''));
    await page.type('#flame-search', 'HANDLE (*+');
    await page.waitForFunction("document.getElementById('flame-search').value === 'HANDLE (*+'");
    assert.match(await textOf('#flame-details'), /search: 3000000 of 3000000 total/);
  });

  it('should open the process view from the list: the share of CPU inside spans, the functions outside, all as text (issue 20 §4)', async () => {
    // No process profile yet: the view says how to get some, and the list has no link to it.
    await page.goto(`${viewer.url}/process`);
    await page.waitForSelector('#process-empty');
    assert.match(await textOf('#process-empty'), /OTEL_SPAN_PROFILER_MODE=continuous/);
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('#roots tbody tr');
    assert.equal(await page.$('#process-link'), null);
    assert.doesNotMatch(await textOf('#app'), /\bnull\b/);

    const hostile = '<img src=x onerror="window.__pwned=1">';
    store.addProfiles(profilesRequest({ functions: ['handle', 'work'], values: [3_000_000], profileAttributes: [CONTINUOUS] }).request);
    store.addProfiles(
      profilesRequest({ functions: ['timer', hostile], values: [1_000_000], unlinked: true, profileAttributes: [CONTINUOUS] }).request,
    );
    await page.goto(`${viewer.url}/`);
    await page.waitForSelector('#process-link');
    await page.click('#process-link');
    await page.waitForSelector('#process-share');
    assert.equal(new URL(page.url()).pathname, '/process');
    assert.match(await textOf('#process-share'), /^75\.0% of the process CPU ran inside spans \(2 samples over /);
    assert.match(await textOf('#process-split'), /inside spans: CPU 3\.00 ms \(1 sample\).*outside any span: CPU 1\.00 ms \(1 sample\)/);
    assert.doesNotMatch(await textOf('#app'), /\bnull\b/);
    const outside = await page.$$eval('#outside-functions tbody tr td.fn', (cells) => cells.map((c) => c.textContent ?? ''));
    assert.deepEqual(outside, [hostile]);
    await flameDrawn();
    const frames = await page.$$eval('#flame svg title', (titles) => titles.map((t) => t.textContent ?? ''));
    assert.ok(
      frames.some((f) => f.includes('handle')),
      frames.join('\n'),
    );
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    assert.equal(await page.$('#outside-functions img'), null);
    await page.screenshot({ path: join(SCREENSHOTS, 'process-view.png'), fullPage: true });

    // A second service: the selector narrows the view to it, and the address says so.
    store.addProfiles(
      profilesRequest({
        functions: ['poll', 'other_leaf'],
        values: [2_000_000],
        unlinked: true,
        profileAttributes: [CONTINUOUS],
        serviceName: 'other-service',
      }).request,
    );
    await page.goto(`${viewer.url}/process`);
    await page.waitForSelector('#process-service');
    assert.match(await textOf('#process-share'), /^50\.0% of the process CPU ran inside spans \(3 samples/);
    await page.select('#process-service', 'other-service');
    await page.waitForFunction("document.getElementById('process-share').innerText.startsWith('0.0%')");
    assert.equal(new URL(page.url()).search, '?service=other-service');
    assert.deepEqual(await page.$$eval('#outside-functions tbody tr td.fn', (cells) => cells.map((c) => c.textContent ?? '')), [
      'other_leaf',
    ]);
  });
});
