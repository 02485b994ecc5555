// The viewer's page script: a small router over the JSON API (src/viewer/viewer-server.ts).
// The flame graph is d3-flame-graph (window.flamegraph) on d3-selection (window.d3).
'use strict';

const app = document.getElementById('app');
const crumb = document.getElementById('crumb');
const statusLine = document.getElementById('status');
let listState = { sortKey: 'startUnixNano', asc: false, query: '' };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Nanoseconds as a short duration. */
function fmtNanos(ns) {
  if (!Number.isFinite(ns) || ns <= 0) return '0 ms';
  if (ns < 1e6) return `${(ns / 1e3).toFixed(0)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function fmtTime(unixNanoText) {
  const ms = Number(BigInt(unixNanoText) / 1000000n);
  if (!ms) return '';
  const d = new Date(ms);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

async function getJson(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${res.status}: ${(await res.text()).trim()}`);
  return res.json();
}

function navigate(path, replace) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[data-nav]');
  if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey && event.button === 0) {
    event.preventDefault();
    navigate(link.getAttribute('href'));
  }
});
window.addEventListener('popstate', () => route());

async function route() {
  const parts = location.pathname.split('/').filter(Boolean);
  try {
    if (parts[0] === 'trace' && parts[1]) await showTrace(parts[1].toLowerCase(), undefined);
    else if (parts[0] === 'span' && parts[1]) {
      const span = await getJson(`/api/spans/${encodeURIComponent(parts[1])}`);
      await showTrace(span.traceId, span.spanId);
    } else if (parts[0] === 'name' && parts[1]) await showName(decodeURIComponent(parts[1]));
    else if (parts[0] === 'process') await showProcess(new URLSearchParams(location.search).get('service') || '');
    else await showList();
  } catch (err) {
    app.replaceChildren(
      el('div', { class: 'empty' }, `Cannot show this page: ${err.message}`),
      el('a', { href: '/', 'data-nav': true }, 'Back to the list'),
    );
  }
}

// ---- The list of profiled roots and the per-name aggregate ----

const COLUMNS = [
  { key: 'service', label: 'Service' },
  { key: 'name', label: 'Root span' },
  { key: 'traceId', label: 'Trace ID' },
  { key: 'startUnixNano', label: 'Start' },
  { key: 'durationNanos', label: 'Duration', num: true },
  { key: 'cpuNanos', label: 'CPU time', num: true },
  { key: 'samples', label: 'Samples', num: true },
];

async function showList() {
  crumb.textContent = 'profiled requests';
  const data = await getJson('/api/traces');
  statusLine.textContent =
    `${data.roots.length} profiled roots · ${data.stats.spansReceived} spans · ${data.stats.samplesReceived} samples received` +
    (data.cpuMeasured ? '' : ' · CPU estimated from sample counts');
  const search = el('input', { type: 'search', id: 'search', placeholder: 'Search service, span name, trace ID…', value: listState.query });
  const body = el('tbody');
  const head = el('tr');
  const maxCpu = Math.max(1, ...data.roots.map((r) => r.cpuNanos));
  const render = () => {
    const q = listState.query.toLowerCase();
    const rows = data.roots.filter((r) => !q || `${r.service} ${r.name} ${r.traceId} ${r.rootSpanId}`.toLowerCase().includes(q));
    const column = COLUMNS.find((c) => c.key === listState.sortKey);
    rows.sort((a, b) => {
      let av = a[listState.sortKey],
        bv = b[listState.sortKey];
      if (listState.sortKey === 'startUnixNano') {
        av = BigInt(av);
        bv = BigInt(bv);
      }
      const order = av < bv ? -1 : av > bv ? 1 : 0;
      return listState.asc ? order : -order;
    });
    head.replaceChildren(
      ...COLUMNS.map((c) =>
        el(
          'th',
          {
            class: `${c.num ? 'num' : ''} ${c.key === listState.sortKey ? 'sorted' : ''} ${c.key === listState.sortKey && listState.asc ? 'asc' : ''}`,
            'data-key': c.key,
            onclick: () => {
              listState = {
                ...listState,
                asc: listState.sortKey === c.key ? !listState.asc : !!(!column || (!c.num && c.key !== 'startUnixNano')),
                sortKey: c.key,
              };
              render();
            },
          },
          c.label,
        ),
      ),
    );
    body.replaceChildren(
      ...rows.map((r) =>
        el(
          'tr',
          { class: 'row', 'data-trace-id': r.traceId, 'data-span-id': r.rootSpanId, onclick: () => navigate(`/trace/${r.traceId}`) },
          el('td', {}, r.service),
          el('td', {}, el('a', { href: `/trace/${r.traceId}`, 'data-nav': true }, r.name)),
          el('td', { class: 'mono' }, r.traceId),
          el('td', {}, fmtTime(r.startUnixNano)),
          el('td', { class: 'num' }, fmtNanos(r.durationNanos)),
          el(
            'td',
            { class: 'num cpu' },
            el('span', { class: 'cpubar', style: `width:${Math.round((60 * r.cpuNanos) / maxCpu)}px` }),
            fmtNanos(r.cpuNanos),
          ),
          el('td', { class: 'num' }, r.samples),
        ),
      ),
    );
  };
  search.addEventListener('input', () => {
    listState.query = search.value;
    render();
  });
  render();
  const aggregates = el(
    'tbody',
    {},
    data.aggregates.map((a) =>
      el(
        'tr',
        { class: 'row', 'data-name': a.name, onclick: () => navigate(`/name/${encodeURIComponent(a.name)}`) },
        el('td', {}, a.service),
        el('td', {}, el('a', { href: `/name/${encodeURIComponent(a.name)}`, 'data-nav': true }, `all ${a.name}`)),
        el('td', { class: 'num' }, a.count),
        el('td', { class: 'num cpu' }, fmtNanos(a.cpuNanos)),
        el('td', { class: 'num' }, fmtNanos(a.meanCpuNanos)),
        el('td', { class: 'num' }, fmtNanos(a.p50DurationNanos)),
      ),
    ),
  );
  // replaceChildren would write a null as the text "null": the optional link is left out instead.
  app.replaceChildren(
    ...[
      data.stats.processSamplesReceived > 0
        ? el(
            'p',
            { class: 'process-link' },
            el('a', { href: '/process', 'data-nav': true, id: 'process-link' }, 'Process view'),
            ' · the whole process from continuous mode: CPU inside and outside spans',
          )
        : null,
      el('h2', {}, 'By root span name ', el('small', {}, 'every request of one name merged into one flame graph')),
      el(
        'table',
        { id: 'aggregates' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ['Service', 'Root span', 'Requests', 'CPU time', 'CPU per request', 'Median duration'].map((t, i) =>
              el('th', { class: i >= 2 ? 'num' : '' }, t),
            ),
          ),
        ),
        aggregates,
      ),
      el('h2', {}, 'Profiled requests ', el('small', {}, `${data.roots.length} (newest first; click a column to sort)`)),
      el('div', { class: 'toolbar' }, search),
      el('div', { class: 'scroll' }, el('table', { id: 'roots' }, el('thead', {}, head), body)),
    ].filter(Boolean),
  );
}

// ---- A trace: waterfall with CPU per span, and the flame graph ----

async function showTrace(traceId, selectedSpanId) {
  const trace = await getJson(`/api/traces/${traceId}`);
  const spans = trace.spans;
  const root = trace.roots[0];
  crumb.textContent = `trace ${traceId}`;
  statusLine.textContent = trace.cpuMeasured ? 'CPU time measured per sample' : 'CPU time estimated: samples × sampling period';
  let t0 = null,
    t1 = null;
  for (const s of spans) {
    const a = BigInt(s.startUnixNano),
      b = BigInt(s.endUnixNano);
    if (a > 0n && (t0 === null || a < t0)) t0 = a;
    if (t1 === null || b > t1) t1 = b;
  }
  const total = Math.max(1, Number((t1 ?? 0n) - (t0 ?? 0n)));
  const depth = new Map();
  for (const s of spans) depth.set(s.spanId, s.parentSpanId && depth.has(s.parentSpanId) ? depth.get(s.parentSpanId) + 1 : 0);
  const maxSelf = Math.max(1, ...spans.map((s) => s.selfCpuNanos));
  const rows = spans.map((s) => {
    const start = Number(BigInt(s.startUnixNano) - (t0 ?? 0n));
    const duration = Math.max(0, Number(BigInt(s.endUnixNano) - BigInt(s.startUnixNano)));
    const left = (100 * start) / total;
    const width = Math.max(0.2, (100 * duration) / total);
    const cpuShare = duration > 0 ? Math.min(1, s.selfCpuNanos / duration) : s.selfCpuNanos > 0 ? 1 : 0;
    const label = `${fmtNanos(duration)}${s.selfCpuNanos > 0 ? ` · CPU ${fmtNanos(s.selfCpuNanos)}` : ''}`;
    return el(
      'div',
      {
        class: 'wf-row',
        'data-span-id': s.spanId,
        title: `${s.name}\nduration ${fmtNanos(duration)}\nown CPU ${fmtNanos(s.selfCpuNanos)} (${s.selfSamples} samples)\nCPU incl. children ${fmtNanos(s.totalCpuNanos)}`,
        onclick: () => selectSpan(s.spanId),
      },
      el(
        'div',
        { class: 'wf-name', style: `padding-left:${8 + 14 * depth.get(s.spanId)}px` },
        s.inferred ? el('span', { class: 'inferred' }, s.name) : s.name,
        s.service ? el('span', { class: 'svc' }, s.service) : null,
      ),
      el(
        'div',
        { class: 'wf-cpu' },
        s.selfCpuNanos > 0
          ? el('span', { class: 'cpubar', style: `width:${Math.max(2, Math.round((40 * s.selfCpuNanos) / maxSelf))}px` })
          : null,
        el('span', { class: s.selfCpuNanos > 0 ? 'cpu' : '' }, fmtNanos(s.selfCpuNanos)),
      ),
      el(
        'div',
        { class: 'wf-track' },
        el(
          'div',
          { class: 'wf-bar', style: `left:${left}%;width:${width}%` },
          el('div', { class: 'wf-cpu-fill', style: `width:${(100 * cpuShare).toFixed(1)}%` }),
        ),
        el('span', { class: 'wf-label', style: left + width > 70 ? `left:${left}%` : `left:${left + width}%` }, label),
      ),
    );
  });
  const flameTitle = el('h2', { id: 'flame-title' });
  const selfBox = el('input', { type: 'checkbox', id: 'self-only' });
  const flame = flamePanel();
  let current = selectedSpanId || (root && root.rootSpanId) || (spans[0] && spans[0].spanId);
  const selectSpan = async (spanId, replace) => {
    current = spanId;
    for (const row of document.querySelectorAll('.wf-row')) row.classList.toggle('selected', row.dataset.spanId === spanId);
    const span = spans.find((s) => s.spanId === spanId);
    const isRoot = root && spanId === root.rootSpanId;
    if (replace !== undefined || location.pathname !== `/span/${spanId}`) {
      const path = isRoot && !selectedSpanId && replace ? `/trace/${traceId}` : `/span/${spanId}`;
      if (replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    const self = selfBox.checked;
    const cpu = self ? span?.selfCpuNanos : span?.totalCpuNanos;
    flameTitle.replaceChildren(
      `Flame graph: ${span ? span.name : spanId} `,
      el('small', {}, `${self ? 'own samples only' : 'with its child spans'} · CPU ${fmtNanos(cpu || 0)}`),
    );
    await flame.load(`/api/spans/${spanId}/flame${self ? '?self=1' : ''}`);
  };
  selfBox.addEventListener('change', () => selectSpan(current, true));
  app.replaceChildren(
    el(
      'h2',
      {},
      root ? `${root.name} ` : 'Trace ',
      el(
        'small',
        {},
        `${root ? root.service + ' · ' : ''}trace ${traceId} · ${fmtNanos(total)} · CPU ${fmtNanos(spans.reduce((a, s) => a + s.selfCpuNanos, 0))}`,
      ),
    ),
    el(
      'div',
      { class: 'legend' },
      'Each bar is a span;',
      el('i', { style: 'background:var(--cpu)' }),
      'the red part is the CPU its own code used (sampled), as a share of its duration. Click a span for its flame graph.',
    ),
    el(
      'div',
      { class: 'waterfall', id: 'waterfall' },
      el('div', { class: 'wf-head' }, el('div', {}, 'Span'), el('div', { class: 'wf-cpu' }, 'Own CPU'), el('div', {}, 'Timeline')),
      rows,
    ),
    flameTitle,
    el('div', { class: 'toolbar' }, el('label', {}, selfBox, " only the span's own samples (not its children's)")),
    flame.node,
  );
  if (current) await selectSpan(current, true);
}

async function showName(name) {
  crumb.textContent = `all “${name}”`;
  statusLine.textContent = '';
  const flame = flamePanel();
  app.replaceChildren(el('h2', { id: 'flame-title' }, `Flame graph: every “${name}” request`), flame.node);
  await flame.load(`/api/names/${encodeURIComponent(name)}`);
}

// ---- The process view: continuous mode's process profiles ----

async function showProcess(service) {
  crumb.textContent = 'process';
  const view = await getJson(`/api/process${service ? `?service=${encodeURIComponent(service)}` : ''}`);
  statusLine.textContent =
    `${plural(view.periods, 'period')} · ${plural(view.stats.processSamplesReceived, 'process sample')} received` +
    (view.stats.processSamplesDropped > 0 ? ` (${view.stats.processSamplesDropped} oldest dropped)` : '') +
    (view.cpuMeasured ? '' : ' · CPU estimated from sample counts');
  if (view.totalSamples === 0) {
    app.replaceChildren(el('h2', {}, 'Process'), processHowTo(view.services.length > 0));
    return;
  }
  const windowNanos = Number(BigInt(view.endUnixNano) - BigInt(view.startUnixNano));
  const flame = flamePanel();
  app.replaceChildren(
    ...[
      el(
        'h2',
        { id: 'process-share' },
        `${view.inSpansPercent.toFixed(1)}% of the process CPU ran inside spans `,
        el('small', {}, `(${plural(view.totalSamples, 'sample')} over ${fmtNanos(windowNanos)}, ${plural(view.periods, 'period')})`),
      ),
      serviceChooser(view),
      el(
        'div',
        { class: 'legend', id: 'process-split' },
        el('i', { style: 'background:var(--span-border)' }),
        `inside spans: CPU ${fmtNanos(view.inSpansCpuNanos)} (${plural(view.inSpansSamples, 'sample')})`,
        el('i', { style: 'background:var(--cpu)' }),
        `outside any span: CPU ${fmtNanos(view.outsideSpansCpuNanos)} (${plural(view.outsideSpansSamples, 'sample')})`,
      ),
      el('h2', {}, 'Top functions outside any span ', el('small', {}, 'by own (self) CPU, as a share of the process CPU')),
      el('div', { class: 'scroll' }, outsideTable(view)),
      el('h2', { id: 'flame-title' }, 'Flame graph of the periods ', el('small', {}, 'every process sample, inside and outside spans')),
      flame.node,
    ].filter(Boolean),
  );
  flame.show(view.flame);
}

/** What to do when there is no process profile: continuous mode, and where to send its profiles. */
function processHowTo(otherService) {
  return el(
    'div',
    { class: 'empty', id: 'process-empty' },
    otherService ? 'No process samples for this service. ' : 'No process profiles yet. ',
    'They come from continuous mode: create the processor with ',
    el('code', {}, "mode: 'continuous'"),
    ' or start the application with ',
    el('code', {}, 'OTEL_SPAN_PROFILER_MODE=continuous'),
    ', and send its profiles to this viewer (',
    el('code', {}, 'view --otlp-port 4318'),
    ') or load their files. ',
    el('a', { href: '/', 'data-nav': true }, 'Back to the list'),
  );
}

function serviceChooser(view) {
  if (view.services.filter(Boolean).length < 2) return null;
  const select = el(
    'select',
    { id: 'process-service' },
    el('option', { value: '' }, 'every service'),
    // Samples without a service name are only in "every service": '' is that option's value.
    view.services.filter(Boolean).map((name) => el('option', { value: name, selected: name === view.service }, name)),
  );
  select.addEventListener('change', () => navigate(select.value ? `/process?service=${encodeURIComponent(select.value)}` : '/process'));
  return el('div', { class: 'toolbar' }, el('label', {}, 'Service ', select));
}

function outsideTable(view) {
  return el(
    'table',
    { id: 'outside-functions' },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Function', 'File', 'Self CPU', 'Self %', 'Samples', 'Total CPU'].map((t, i) => el('th', { class: i >= 2 ? 'num' : '' }, t)),
      ),
    ),
    el(
      'tbody',
      {},
      view.topOutsideSpans.map((f) =>
        el(
          'tr',
          {},
          el('td', { class: 'fn' }, f.name),
          el('td', { class: 'mono' }, f.file),
          el('td', { class: 'num cpu' }, fmtNanos(f.selfCpuNanos)),
          el('td', { class: 'num' }, `${view.totalCpuNanos > 0 ? ((100 * f.selfCpuNanos) / view.totalCpuNanos).toFixed(1) : '0.0'}%`),
          el('td', { class: 'num' }, f.selfSamples),
          el('td', { class: 'num' }, fmtNanos(f.totalCpuNanos)),
        ),
      ),
    ),
  );
}

// ---- Flame graph panel: d3-flame-graph, search, zoom reset, top functions ----

function flamePanel() {
  const search = el('input', { type: 'search', id: 'flame-search', placeholder: 'Search functions…' });
  const reset = el('button', { id: 'flame-reset' }, 'Reset zoom');
  const details = el('div', { id: 'flame-details' });
  const chartBox = el('div', { id: 'flame' });
  const top = el('tbody');
  const node = el(
    'div',
    {},
    el('div', { class: 'toolbar' }, search, reset, el('span', { class: 'legend' }, 'click a frame to zoom')),
    el('div', { id: 'flame-wrap' }, details, chartBox),
    el('h2', {}, 'Top functions ', el('small', {}, 'by own (self) CPU; click one to highlight it')),
    el(
      'div',
      { class: 'scroll' },
      el(
        'table',
        { id: 'top-functions' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th', {}, 'Function'),
            el('th', {}, 'File'),
            el('th', { class: 'num' }, 'Self CPU'),
            el('th', { class: 'num' }, 'Self %'),
            el('th', { class: 'num' }, 'Total CPU'),
          ),
        ),
        top,
      ),
    ),
  );
  let chart = null;
  search.addEventListener('input', () => {
    if (chart) {
      if (search.value) chart.search(search.value);
      else chart.clear();
    }
  });
  reset.addEventListener('click', () => chart && chart.resetZoom());
  return {
    node,
    async load(path) {
      this.show(await getJson(path));
    },
    show(tree) {
      if (chart) chart.destroy();
      chartBox.replaceChildren();
      if (tree.value <= 0) {
        chartBox.append(el('div', { class: 'empty' }, 'No profile samples for this span.'));
        top.replaceChildren();
        chart = null;
        return;
      }
      const width = Math.max(400, chartBox.clientWidth || app.clientWidth - 20);
      chart = flamegraph()
        .width(width)
        .cellHeight(18)
        .minFrameSize(2)
        .transitionDuration(200)
        .sort(true)
        .title('')
        .setDetailsElement(details)
        // Plain text, not d3-flame-graph's default RegExp: function names hold ( [ * and such.
        .setSearchMatch((d, term) => Boolean(term) && String(d.data.name).toLowerCase().includes(term.toLowerCase()))
        .label((d) => `${d.data.fn}: ${fmtNanos(d.value)} CPU, ${((100 * d.value) / tree.value).toFixed(1)}%`);
      d3.select(chartBox).datum(tree).call(chart);
      if (search.value) chart.search(search.value);
      const rows = topFunctions(tree);
      top.replaceChildren(
        ...rows.slice(0, 40).map((r) =>
          el(
            'tr',
            {
              class: 'row',
              onclick: () => {
                search.value = r.name;
                chart.search(r.name);
              },
            },
            el('td', { class: 'fn' }, r.name),
            el('td', { class: 'mono' }, r.file),
            el('td', { class: 'num cpu' }, fmtNanos(r.self)),
            el('td', { class: 'num' }, `${((100 * r.self) / tree.value).toFixed(1)}%`),
            el('td', { class: 'num' }, fmtNanos(r.total)),
          ),
        ),
      );
    },
  };
}

/** Self and total CPU per function; total counts a function once per stack (recursion). */
function topFunctions(tree) {
  const byFn = new Map();
  const walk = (node, onPath) => {
    const childSum = node.children.reduce((a, c) => a + c.value, 0);
    let entry = byFn.get(node.fn);
    if (!entry) {
      const match = /^(.*) \((.*)\)$/.exec(node.fn);
      entry = { name: match ? match[1] : node.fn, file: match ? match[2] : '', self: 0, total: 0 };
      byFn.set(node.fn, entry);
    }
    entry.self += Math.max(0, node.value - childSum);
    if (!onPath.has(node.fn)) entry.total += node.value;
    const next = new Set(onPath).add(node.fn);
    for (const child of node.children) walk(child, next);
  };
  for (const child of tree.children) walk(child, new Set());
  return [...byFn.values()].sort((a, b) => b.self - a.self);
}

route();
