package httpadapter

// The page DebugHandler serves: debugPageHead, the view as JSON, debugPageTail. It loads
// nothing: its style and script are inline, allowed by their hashes (see debugCSP). The
// script draws the view from the JSON in the page, then from the JSON of the page's own
// URL with format=json, fetched a second after each answer while the page is visible and
// not paused. It writes text with Element.append and setAttribute only, never as HTML:
// labels come from requests.

const debugPageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>suspend: live view</title>
<style>` + debugPageStyle + `</style>
</head>
<body>
<header>
<h1>suspend <span class="sub">live view</span></h1>
<p id="status" class="status">loading…</p>
<label><input type="checkbox" id="pause"> pause</label>
<a id="json" href="?format=json">JSON</a>
</header>
<noscript><p class="note">This page draws its figures, and refreshes them every second,
with JavaScript, which is off. The same figures are served as JSON: add
<code>?format=json</code> to this page's address.</p></noscript>
<main id="view"></main>
<script id="data" type="application/json">`

const debugPageTail = `</script>
<script>` + debugPageScript + `</script>
</body>
</html>
`

const debugPageStyle = `
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --dim: #666; --line: #ddd;
  --warn: #b00020; --ok: #1a7f37; --head: #f4f4f4; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #161616; --dim: #999;
  --line: #333; --warn: #ff6b6b; --ok: #5bd47a; --head: #222; } }
body { font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg);
  margin: 0 1.5em 2em; }
header { display: flex; gap: 1.5em; align-items: baseline; flex-wrap: wrap;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3em; margin: .6em 0; } h1 .sub { font-weight: normal; color: var(--dim); }
h2 { font-size: 1.05em; margin: 1.4em 0 .4em; }
h3 { font-size: 1em; font-weight: 600; color: var(--dim); margin: .5em 0 .1em; }
.status { color: var(--dim); margin: 0; } .status.ok::before { content: "● "; color: var(--ok); }
.status.stale, .status.error, .warn { color: var(--warn); }
.note { color: var(--dim); margin: .2em 0 .6em; max-width: 60em; }
.figs { display: flex; flex-wrap: wrap; gap: .5em 2em; margin: .3em 0; }
.fig { display: flex; flex-direction: column; min-width: 5em; }
.fig .v { font-size: 1.6em; font-variant-numeric: tabular-nums; } .fig .k { color: var(--dim); }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: .3em 0; }
th, td { padding: .15em .7em; border-bottom: 1px solid var(--line); text-align: right;
  white-space: nowrap; }
thead th { background: var(--head); font-weight: 600; }
th:first-child, td:first-child, td.l { text-align: left; }
tbody th { font-weight: normal; }
td.label { max-width: 30em; overflow: hidden; text-overflow: ellipsis; }
.cols { display: flex; flex-wrap: wrap; gap: 0 3em; }
`

const debugPageScript = `
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const view = $('view'), status = $('status'), pause = $('pause');
  const jsonURL = new URL(location.href);
  jsonURL.searchParams.delete('all');
  jsonURL.searchParams.set('format', 'json');
  $('json').href = jsonURL.search;
  let prev = null, updates = 0, timer = 0, inflight = false;

  function show(kind, text) {
    status.className = 'status ' + kind;
    status.textContent = text;
  }
  window.addEventListener('error', (e) => show('error', 'page error: ' + e.message));

  // el makes an element; strings among kids become text, never HTML.
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    for (const k of kids) {
      if (k !== undefined && k !== null) e.append(k);
    }
    return e;
  }
  const num = (n) => Number(n).toLocaleString('en-US');
  const fix = (x) => x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0);
  function dur(ns) {
    const a = Math.abs(ns), sign = ns < 0 ? '-' : '';
    if (a < 1e3) return sign + a + ' ns';
    if (a < 1e6) return sign + fix(a / 1e3) + ' µs';
    if (a < 1e9) return sign + fix(a / 1e6) + ' ms';
    if (a < 60e9) return sign + fix(a / 1e9) + ' s';
    const t = Math.floor(a / 1e9), h = Math.floor(t / 3600), m = Math.floor(t % 3600 / 60);
    return sign + (h ? h + ' h ' : '') + m + ' min ' + (t % 60) + ' s';
  }
  const section = (title, note, ...body) =>
    el('section', null, el('h2', null, title), note ? el('p', {class: 'note'}, note) : null, ...body);
  const figs = (prefix, obj, list) => el('div', {class: 'figs'}, ...list.map(([k, label, tip]) =>
    el('div', {class: 'fig', title: tip}, el('span', {class: 'v', id: prefix + k}, num(obj[k])),
      el('span', {class: 'k'}, label))));
  const table = (head, rows, empty) => el('table', null, el('thead', null, ...head),
    el('tbody', null, ...(rows.length ? rows :
      [el('tr', null, el('td', {class: 'l', colspan: 20}, empty))])));
  const tr = (...cells) => el('tr', null, ...cells);
  const th = (text, attrs) => el('th', attrs, text);
  const td = (text, attrs) => el('td', attrs, text);

  const ALIVE = [
    ['alive', 'alive', 'Admitted and not ended: running + suspended + queued'],
    ['running', 'running', 'Holding a slot: their code runs'],
    ['suspended', 'suspended', 'Waiting on a future or a Blocking call, holding no slot'],
    ['queued', 'queued', 'Waiting for a slot, to start or to resume'],
  ];
  const POOL = [
    ['workers', 'slots', 'The bound: how many may run at once'],
    ['busy', 'busy', 'Slots held now'],
    ['busy_workers', 'by workers', 'Slots held by the pool\'s workers running a task'],
    ['busy_inline', 'inline', 'Slots held by goroutines that took one themselves (Run, HTTP requests)'],
    ['queued_new', 'queued new', 'Tasks of Submit waiting for a slot'],
    ['queued_resumed', 'queued resumed', 'Tasks of Resume waiting for a slot'],
    ['waiting_new', 'waiting new', 'Goroutines waiting in Acquire: new work'],
    ['waiting_resumed', 'waiting resumed', 'Goroutines waiting in Reacquire: admitted work coming back'],
  ];
  const RAN = [
    ['completed', 'completed', 'The body returned nil'],
    ['failed', 'failed', 'The body returned an error counted under no other cause'],
    ['panicked', 'panicked', 'The body panicked'],
    ['cancelled', 'cancelled', 'Its context was cancelled (a client went away), while it ran or before'],
    ['deadline', 'deadline', 'The body returned context.DeadlineExceeded (504)'],
    ['stopped', 'stopped', 'Shutdown gave up on it'],
  ];
  const REFUSED = [
    ['overloaded', 'overloaded', 'Refused for a bound: the alive bound, or the pool\'s queue was full'],
    ['shed', 'shed', 'Refused for the pool\'s queueing delay'],
    ['late', 'late', 'Refused because its deadline passed, or would have, before its first slot'],
    ['closed', 'closed', 'Refused because shutdown had begun'],
  ];
  const TASKS = [
    ['submitted', 'submitted', 'Tasks accepted by Submit'],
    ['resumed', 'resumed', 'Tasks accepted by Resume'],
    ['completed', 'completed', 'Tasks that returned or panicked'],
    ['panicked', 'panicked', 'Tasks that panicked'],
    ['refused', 'refused', 'Submit and Acquire calls refused: queue full'],
    ['shed', 'shed', 'Submit and Acquire calls refused for the queueing delay'],
    ['late', 'late', 'Acquire calls refused: their deadline would pass in the queue'],
  ];
  const LAT = [
    ['slot_wait', 'slot wait', 'Per step: the wait for a slot, to start or to resume'],
    ['step', 'step', 'Per step: the time holding a slot'],
    ['suspension', 'suspension', 'Per suspension: from giving the slot back to being woken'],
  ];

  function ends(d, dt) {
    const rows = (prefix, cur, old, list) => list.map(([k, label, tip]) => el('tr', {title: tip},
      th(label), td(num(cur[k]), {id: prefix + k}),
      td(old && dt > 0 ? fix(Math.max(0, cur[k] - old[k]) / dt) : '')));
    const o = prev && prev.d;
    const head = () => [tr(th('cause'), th('count'), th('per second'))];
    const parts = [
      el('div', null, el('h3', null, 'ran'), table(head(), rows('s-', d.scheduler, o && o.scheduler, RAN))),
      el('div', null, el('h3', null, 'refused before their first step'),
        table(head(), rows('s-', d.scheduler, o && o.scheduler, REFUSED.concat([['step_overruns',
          'step overruns', 'Steps that held their slot past the step budget (they went on)']])))),
    ];
    if (d.pool) {
      parts.push(el('div', null, el('h3', null, 'pool tasks and calls'),
        table(head(), rows('p-', d.pool, o && o.pool, TASKS))));
    }
    return el('div', {class: 'cols'}, ...parts);
  }

  const q = (s, k) => (s.count ? dur(s[k]) : '–');
  function latencies(l) {
    return table([tr(th(''), th('count'), th('p50'), th('p99'), th('mean'))],
      LAT.map(([k, label, tip]) => el('tr', {title: tip}, th(label), td(num(l[k].count), {id: 'l-' + k + '-count'}),
        td(q(l[k], 'p50_ns')), td(q(l[k], 'p99_ns')),
        td(l[k].count ? dur(Math.round(l[k].sum_ns / l[k].count)) : '–'))), 'none');
  }

  function routes(rs) {
    const head = [
      tr(th(''), th('alive now', {colspan: 3}), ...LAT.map(([, label, tip]) =>
        th(label, {colspan: 3, title: tip}))),
      tr(th('label'), th('running'), th('suspended'), th('queued'),
        ...LAT.flatMap(() => [th('count'), th('p50'), th('p99')])),
    ];
    return table(head, rs.map((r) => tr(td(r.label === '' ? '(no label)' : r.label, {class: 'label'}),
      td(num(r.running)), td(num(r.suspended)), td(num(r.queued)),
      ...LAT.flatMap(([k]) => [td(num(r[k].count)), td(q(r[k], 'p50_ns')), td(q(r[k], 'p99_ns'))]))),
    'no route yet');
  }

  function list(cs, empty) {
    const head = [tr(th('label'), th('priority'), th('state'), th('in state'), th('age'), th('steps'),
      th('busy'), th('queued'), th('suspended'), th('deadline left'))];
    return table(head, cs.map((c) => {
      const left = c.deadline_left_ns;
      return tr(td(c.label === '' ? '(no label)' : c.label, {class: 'label'}), td(c.priority, {class: 'l'}),
        td(c.state, {class: 'l'}), td(dur(c.in_state_ns)), td(dur(c.age_ns)), td(num(c.steps)),
        td(dur(c.busy_ns)), td(dur(c.queued_ns)), td(dur(c.suspended_ns)),
        left === undefined ? td('') : left > 0 ? td(dur(left)) : td('passed ' + dur(-left) + ' ago', {class: 'warn'}));
    }), empty);
  }

  function render(d) {
    const at = performance.now(), dt = prev ? (at - prev.at) / 1000 : 0;
    const w = d.warnings;
    view.replaceChildren(
      section('Now', null, figs('s-', d.scheduler, ALIVE)),
      d.pool ? section('Pool', 'Slots are the bound on work that executes; waiting holds none.',
        figs('p-', d.pool, POOL)) : null,
      section('Ends by cause', 'Counted since the scheduler began; per second since the last refresh.',
        ends(d, dt)),
      section('Latencies', 'Of every period ended so far: p50 and p99 are estimates within about 25%.',
        latencies(d.latencies)),
      section('Routes', 'By label (the labels past the first 256 share "(other)"): alive now by state, and the latencies of their periods so far.',
        routes(d.routes)),
      section('Warnings', 'Alive continuations that call for a look, and the ' + d.n + ' oldest of them.',
        figs('w-', w, [
          ['over_budget', 'over budget', 'Running a step past the step budget now'],
          ['past_deadline', 'past deadline', 'Alive though their context\'s deadline has passed'],
          ['cancelled', 'cancelled', 'Alive though their context is cancelled (a client went away)'],
        ]), list(w.oldest, 'none')),
      section('Oldest', 'The ' + d.n + ' admitted longest ago. Busy, queued and suspended are totals, not counting the time in the state now.',
        list(d.oldest, 'none alive')),
      section('Longest running', 'The ' + d.n + ' whose step has held its slot longest.',
        list(d.longest_running, 'none running')),
    );
    prev = {at, d};
    status.dataset.updates = ++updates;
    show('ok', 'updated ' + new Date().toLocaleTimeString() + (pause.checked ? ', paused' : ', every second'));
  }

  function schedule() {
    if (!timer && !inflight && !pause.checked && !document.hidden) timer = setTimeout(refresh, 1000);
  }
  async function refresh() {
    timer = 0;
    if (pause.checked || document.hidden) return; // the listeners below schedule again
    inflight = true;
    try {
      const r = await fetch(jsonURL, {cache: 'no-store', headers: {Accept: 'application/json'}});
      if (!r.ok) throw new Error(r.status + ' ' + (await r.text()).trim());
      render(await r.json());
    } catch (e) {
      show('stale', 'refresh failed (' + e.message + '): these figures are older; retrying');
    } finally {
      inflight = false;
    }
    schedule();
  }
  pause.addEventListener('change', () => {
    if (pause.checked) show('ok', 'paused');
    schedule();
  });
  document.addEventListener('visibilitychange', schedule);
  render(JSON.parse($('data').textContent));
  schedule();
})();
`
