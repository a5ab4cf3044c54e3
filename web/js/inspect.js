// Inspect a run: metrics JSONL files (cmd/train's metrics.jsonl, cmd/amopo-demo --metrics)
// opened side by side, or followed live from cmd/web --run. Every scalar of the log can
// be drawn (per-dimension scalars share a chart), smoothed, over steps or tokens, with
// the held-out evaluation over the training curve; the judge scores before and after
// training, and the final values of each run, are tables.
import { createChart, palette, dashes, fmt } from './plot.js';
import {
  parseJSONL, stageOf, isJudgeStage, judgeLabel, dimensionsOf, groupScalars, groupTitle, ema,
  tokenAxis, meanSE, answersName, parseAnswers, evalPrefix,
} from './runs.js';


const $ = (id) => document.getElementById(id);
// The charts shown until the user picks others (those the log has).
const defaultGroups = ['loss', 'rewards/margins', 'rewards/accuracies', 'weights/{dim}_alpha', 'rewards/{dim}_margins',
  'weights/{dim}_mu', 'weights/{dim}_sigma', 'grad_norm', 'learning_rate', 'nll_loss'];

const runs = []; // {name, rows, errors, answers: {file: scores[]}, live, lineNo}
const charts = new Map(); // chart id -> {chart, element}
const selected = new Set(); // the chart ids drawn
const seenGroups = new Set(); // the chart ids offered so far
let redrawTimer = null;

// scheduleRedraw draws once for a burst of changes; body.dataset.pending is set until then.
function scheduleRedraw() {
  document.body.dataset.pending = '1';
  if (redrawTimer === null) redrawTimer = setTimeout(() => { redrawTimer = null; redraw(); }, 60);
}

function addRun(name, text, answers, live = false) {
  const { rows, errors } = parseJSONL(text);
  const i = runs.findIndex((r) => r.name === name);
  const run = { name, rows, errors, answers: answers || {}, live, lines: text.split('\n').length };
  if (i >= 0) runs[i] = run; else runs.push(run);
  return run;
}

// The stages to choose from: every training stage of the open runs, in log order.
function stages() {
  const out = [];
  for (const r of runs) for (const row of r.rows) {
    const s = stageOf(row);
    if (!isJudgeStage(s) && !out.includes(s)) out.push(s);
  }
  return out;
}

// redraw draws everything from the open runs; body.dataset.redraws counts the drawings
// done, so a test (or a person's console) can wait for the one after its change.
function redraw() {
  const start = performance.now();
  try {
    draw();
  } finally {
    const ms = performance.now() - start;
    document.body.dataset.drawMs = String(Math.round(Math.max(ms, Number(document.body.dataset.drawMs || 0))));
    if (redrawTimer === null) delete document.body.dataset.pending;
    document.body.dataset.redraws = String(Number(document.body.dataset.redraws || 0) + 1);
  }
}

function draw() {
  const stageSel = $('stage');
  const all = stages();
  const keep = stageSel.value;
  stageSel.replaceChildren(...all.map((s) => new Option(s === 'sft' ? 'SFT (supervised fine-tuning)' : s, s)));
  stageSel.value = all.includes(keep) ? keep : (all.includes('preference') ? 'preference' : all[all.length - 1] || '');
  renderRunList();
  $('inspect-out').hidden = runs.length === 0;
  document.body.dataset.inspectRuns = String(runs.length);
  if (runs.length === 0) return;
  const stage = stageSel.value;
  const rows = runs.map((r) => r.rows.filter((row) => stageOf(row) === stage));
  const dims = dimensionsOf(runs.flatMap((r) => r.rows));
  // The usual charts first, in their usual order, then the others by name.
  const rank = (g) => (defaultGroups.includes(g.id) ? defaultGroups.indexOf(g.id) : defaultGroups.length);
  const groups = groupScalars(rows.flat(), dims).sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
  // A chart seen for the first time is shown if it is one of the usual ones; a log with
  // none of them shows its first six. The user's choices stay as runs come and go.
  const fresh = groups.filter((g) => !seenGroups.has(g.id));
  fresh.forEach((g) => seenGroups.add(g.id));
  fresh.filter((g) => defaultGroups.includes(g.id)).forEach((g) => selected.add(g.id));
  if (selected.size === 0 && fresh.length) groups.slice(0, 6).forEach((g) => selected.add(g.id));
  renderScalarList(groups);
  renderDimsNote(stage, rows);
  renderCharts(stage, rows, groups.filter((g) => selected.has(g.id)), dims);
  renderJudge(dims);
  renderFinal(stage, rows, groups.filter((g) => selected.has(g.id)));
  renderPairs(stage, rows, dims);
  document.body.dataset.inspect = 'done';
}

function renderRunList() {
  const list = $('run-list');
  list.replaceChildren(...runs.map((r, i) => {
    const li = document.createElement('li');
    const counts = {};
    for (const row of r.rows) {
      const s = stageOf(row);
      if (!isJudgeStage(s) && !Object.keys(row).some((k) => k.startsWith(evalPrefix))) counts[s] = (counts[s] || 0) + 1;
    }
    const judged = [...new Set(r.rows.map(stageOf).filter(isJudgeStage).map(judgeLabel))];
    const dims = dimensionsOf(r.rows);
    const last = r.rows[r.rows.length - 1];
    const sw = document.createElement('canvas');
    sw.width = 34; sw.height = 10; sw.className = 'swatch';
    const c = sw.getContext('2d');
    c.strokeStyle = '#333'; c.lineWidth = 2.5; c.setLineDash(dashes[i % dashes.length]);
    c.beginPath(); c.moveTo(0, 5); c.lineTo(34, 5); c.stroke();
    const text = document.createElement('span');
    const parts = Object.entries(counts).map(([s, n]) => `${n} ${s === 'sft' ? 'SFT' : s} steps`);
    text.textContent = `${r.name}: ${parts.join(', ') || 'no training rows yet'}` +
      (judged.length ? `; judged ${judged.join(' and ')}` : '') +
      (dims.length ? `; ${dims.length} dimensions` : '') +
      (r.live ? `; following live, last row: ${last ? `${stageOf(last)} step ${last.step}` : 'none yet'}` : '') +
      (r.errors.length ? `; ${r.errors.length} line(s) skipped (below)` : '');
    li.append(sw, text);
    Object.assign(li.dataset, {
      run: r.name, steps: String(counts.preference ?? counts.training ?? 0), stages: Object.keys(counts).join(','),
      dims: dims.join(','), skipped: String(r.errors.length),
      lastStep: last ? String(last.step) : '', lastStage: last ? stageOf(last) : '',
    });
    if (!r.live) {
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.textContent = 'close';
      rm.setAttribute('aria-label', `Close run ${r.name}`);
      rm.addEventListener('click', () => { runs.splice(i, 1); redraw(); });
      li.append(' ', rm);
    }
    return li;
  }));
  const errs = runs.flatMap((r) => r.errors.map((e) => `${r.name}, ${e}`));
  $('inspect-errors').replaceChildren(...errs.slice(0, 50).map((e) => Object.assign(document.createElement('li'), { textContent: e })));
}

let scalarListKey = '';
function renderScalarList(groups) {
  const box = $('scalar-list');
  $('scalar-count').textContent = `${selected.size} of ${groups.length} shown`;
  const sig = JSON.stringify([groups.map((g) => g.id), [...selected]]);
  if (sig === scalarListKey) return; // unchanged (a live run's new rows)
  scalarListKey = sig;
  box.replaceChildren(...groups.map((g) => {
    const label = document.createElement('label');
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.value = g.id;
    cb.checked = selected.has(g.id);
    cb.addEventListener('change', () => {
      if (cb.checked) selected.add(g.id); else selected.delete(g.id);
      scheduleRedraw();
    });
    label.append(cb, ' ' + groupTitle(g.id));
    label.title = g.id;
    return label;
  }));
}

function renderDimsNote(stage, rows) {
  const without = runs.filter((r, i) => !rows[i].some((row) => Object.keys(row).some((k) => k.startsWith('weights/'))));
  const note = $('dims-note');
  if (without.length === 0) { note.textContent = ''; return; }
  const names = without.map((r) => r.name).join(', ');
  note.textContent = stage === 'sft'
    ? 'The SFT stage trains on the chosen answers only: it has no per-dimension weights (choose the preference stage for them).'
    : `No per-dimension weights in ${names} (${stage} stage): its loss logs none (SimPO and the other single-objective losses, ` +
      'or a file without weights/<dimension>_alpha), so there is nothing per dimension to draw for it.';
}

const smoothing = () => Number($('smoothing').value);

function renderCharts(stage, rows, groups, dims) {
  const box = $('run-charts');
  const xAxis = $('x-axis').value;
  const w = smoothing();
  const axes = rows.map((rs) => (xAxis === 'tokens' ? tokenAxis(rs) : null));
  const noTokens = xAxis === 'tokens' && axes.some((a) => a === null);
  $('x-note').textContent = noTokens ? 'Some runs log no token counts (num_tokens) in this stage: they are drawn by step.' : '';
  const wanted = new Set();
  for (const g of groups) {
    const id = `${g.id}`;
    wanted.add(id);
    let entry = charts.get(id);
    const subtitle = `${runs.map((r) => r.name).join(' vs ')}, ${stage} stage`;
    if (!entry || entry.stage !== stage || entry.xAxis !== xAxis || entry.runs !== subtitle) {
      if (entry) entry.element.remove();
      const chart = createChart(box, {
        title: groupTitle(g.id), subtitle, xLabel: xAxis === 'tokens' && !noTokens ? 'tokens' : 'step',
        yLabel: g.perDim ? g.id.replace('{dim}', '*') : g.id, kind: 'line', integerX: xAxis !== 'tokens',
        file: `${g.id.replace('{dim}', 'dims')}_${stage}`,
      });
      entry = { chart, element: chart.element, stage, xAxis, runs: subtitle };
      charts.set(id, entry);
    }
    entry.element.dataset.metric = g.id;
    box.append(entry.element); // in the order of the list
    const series = [];
    const members = [...g.keys.keys()];
    if (g.perDim) members.sort((a, b) => dims.indexOf(a) - dims.indexOf(b));
    runs.forEach((run, ri) => {
      const xOf = axes[ri] || ((s) => s);
      members.forEach((member, mi) => {
        const key = g.keys.get(member);
        const color = g.perDim ? palette[(dims.indexOf(member) >= 0 ? dims.indexOf(member) : mi) % palette.length] : palette[ri % palette.length];
        const dash = dashes[ri % dashes.length];
        const label = runs.length > 1 ? (g.perDim ? `${member} · ${run.name}` : run.name) : member;
        const train = rows[ri].filter((r) => typeof r[key] === 'number').sort((a, b) => a.step - b.step);
        const pts = train.map((r) => [xOf(r.step), r[key]]);
        if (pts.length) {
          if (w > 0) {
            series.push({ name: label, legend: label, color, dash, faint: true, role: 'raw', run: run.name, key, points: pts });
            const sm = ema(pts.map((p) => p[1]), w);
            series.push({ name: label, legend: label, color, dash, role: 'smoothed', run: run.name, key, points: pts.map((p, i) => [p[0], sm[i]]) });
          } else {
            series.push({ name: label, legend: label, color, dash, role: 'raw', run: run.name, key, points: pts });
          }
        }
        const ev = rows[ri].filter((r) => typeof r[evalPrefix + key] === 'number').sort((a, b) => a.step - b.step);
        if (ev.length) {
          // The held-out values toggle with their training line: one legend entry each.
          series.push({ name: `${label} held-out`, legend: label, color, dash: [2, 2], markers: true, role: 'eval', run: run.name, key: evalPrefix + key,
            points: ev.map((r) => [xOf(r.step), r[evalPrefix + key]]) });
        }
      });
    });
    entry.chart.setData({ series, logY: $('log-y').checked });
  }
  for (const [id, entry] of charts) {
    if (!wanted.has(id)) { entry.element.remove(); charts.delete(id); }
  }
  $('chart-help').hidden = groups.length === 0;
}

// renderJudge: the judge scores of each judge evaluation (cmd/train's "after SFT_judge",
// "after amopo_judge" rows), per run and dimension; with the run's answers-*.jsonl files,
// each mean gets +- 2 standard errors over the prompts, and the change from the first
// evaluation to the last its paired interval (the same prompts judged twice).
function renderJudge(dims) {
  const table = $('judge-table');
  table.replaceChildren();
  const cols = [];
  for (const r of runs) {
    const judged = r.rows.filter((row) => isJudgeStage(stageOf(row)));
    judged.forEach((row) => cols.push({ run: r, stage: stageOf(row), row, items: r.answers[answersName(stageOf(row))] }));
  }
  $('judge-box').hidden = cols.length === 0;
  if (!cols.length) return;
  const judgeDims = dims.filter((d) => cols.some((c) => typeof c.row[`judge/${d}`] === 'number'));
  const head = table.createTHead().insertRow();
  head.append(th('judge score (0-4)'));
  const changes = [];
  for (const r of runs) {
    const mine = cols.filter((c) => c.run === r);
    mine.forEach((c) => head.append(th(runs.length > 1 ? `${r.name}: ${judgeLabel(c.stage)}` : judgeLabel(c.stage))));
    if (mine.length > 1) {
      changes.push({ run: r, first: mine[0], last: mine[mine.length - 1] });
      head.append(th(`${runs.length > 1 ? r.name + ': ' : ''}change ± 2 s.e. (paired)`));
    }
  }
  const body = table.createTBody();
  for (const d of judgeDims) {
    const tr = body.insertRow();
    tr.insertCell().textContent = d;
    for (const r of runs) {
      const mine = cols.filter((c) => c.run === r);
      for (const c of mine) {
        const td = tr.insertCell();
        const v = c.row[`judge/${d}`];
        Object.assign(td.dataset, { run: r.name, stage: c.stage, dim: d, value: String(v) });
        td.textContent = typeof v === 'number' ? v.toFixed(3) : '–';
        if (c.items && c.items.length) {
          const { se, n } = meanSE(c.items.map((s) => s[d]).filter(Number.isFinite));
          td.dataset.se = String(se);
          td.dataset.n = String(n);
          td.textContent += ` ± ${(2 * se).toFixed(3)}`;
        }
      }
      const ch = changes.find((x) => x.run === r);
      if (ch) {
        const td = tr.insertCell();
        Object.assign(td.dataset, { run: r.name, dim: d, kind: 'change' });
        const a = ch.first.items, b = ch.last.items;
        if (a && b && a.length === b.length && a.length > 1) {
          const { mean, se } = meanSE(b.map((s, i) => s[d] - a[i][d]));
          Object.assign(td.dataset, { value: String(mean), se: String(se) });
          const mark = mean - 2 * se > 0 ? ' up' : mean + 2 * se < 0 ? ' down' : '';
          td.textContent = `${mean >= 0 ? '+' : ''}${mean.toFixed(3)} ± ${(2 * se).toFixed(3)}${mark}`;
        } else {
          const mean = ch.last.row[`judge/${d}`] - ch.first.row[`judge/${d}`];
          td.dataset.value = String(mean);
          td.textContent = `${mean >= 0 ? '+' : ''}${mean.toFixed(3)} (no interval)`;
        }
      }
    }
  }
  const without = [...new Set(cols.filter((c) => !c.items).map((c) => c.run.name))];
  $('judge-note').textContent = without.length
    ? `Intervals need each prompt's scores, which metrics.jsonl does not hold: open the run's folder (with its answers-*.jsonl files) ` +
      `or follow it with cmd/web --run to get them. Means only for ${without.join(', ')}.`
    : 'Mean score over the held-out prompts ± 2 standard errors; the change is paired by prompt ("up"/"down" when its interval excludes 0).';
}

function th(text) {
  return Object.assign(document.createElement('th'), { textContent: text });
}

// renderFinal: the last value of each shown scalar in each run (training and held-out).
function renderFinal(stage, rows, groups) {
  const table = $('final-table');
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  head.append(th(`${stage}: last value`), ...runs.map((r) => th(r.name)));
  const body = table.createTBody();
  for (const g of groups) {
    for (const [, key] of g.keys) {
      for (const k of [key, evalPrefix + key]) {
        const last = rows.map((rs) => {
          let best = null;
          for (const r of rs) if (typeof r[k] === 'number' && (!best || r.step >= best.step)) best = r;
          return best;
        });
        if (last.every((b) => b === null)) continue;
        const tr = body.insertRow();
        tr.insertCell().textContent = k;
        last.forEach((b, i) => {
          const td = tr.insertCell();
          Object.assign(td.dataset, { key: k, run: runs[i].name });
          if (b) { td.dataset.value = String(b[k]); td.dataset.step = String(b.step); td.textContent = fmt(b[k]); td.title = `step ${b.step}`; } else td.textContent = '–';
        });
      }
    }
  }
}

function renderPairs(stage, rows, dims) {
  const box = $('pair-charts');
  box.replaceChildren();
  if (!$('pairs').open) return;
  const m = $('pair-metric').value;
  const key = (d) => (m === 'margins' ? `rewards/${d}_margins` : `weights/${d}_${m}`);
  const rs = rows[0] || [];
  for (let i = 0; i < dims.length; i++) {
    for (let j = i + 1; j < dims.length; j++) {
      const usable = rs.filter((r) => typeof r[key(dims[i])] === 'number' && typeof r[key(dims[j])] === 'number');
      if (!usable.length) continue;
      const c = createChart(box, { title: `${m}: ${dims[i]} vs ${dims[j]}`, subtitle: `${runs[0].name}, ${stage} stage`, xLabel: dims[i], yLabel: dims[j], kind: 'scatter', height: 200, file: `${m}_${dims[i]}_vs_${dims[j]}` });
      c.element.dataset.metric = `pair:${m}`;
      c.setData({ series: [{ name: '', color: '#333', gradient: true,
        points: usable.map((r) => [r[key(dims[i])], r[key(dims[j])]]),
        label: (k) => `step ${usable[k].step}: ${dims[i]} ${fmt(usable[k][key(dims[i])])}, ${dims[j]} ${fmt(usable[k][key(dims[j])])}` }] });
    }
  }
}

// openFiles reads picked or dropped files: each folder's metrics.jsonl (or, without one,
// each .jsonl file) is a run, named after its folder (or file); answers-*.jsonl files
// beside it give its judge intervals.
async function openFiles(fileList) {
  document.body.dataset.inspect = 'loading';
  const folders = new Map();
  for (const f of fileList) {
    const rel = f.webkitRelativePath || f.name;
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    if (!folders.has(dir)) folders.set(dir, []);
    folders.get(dir).push(f);
  }
  const problems = [];
  for (const [dir, files] of folders) {
    const answers = {};
    for (const f of files.filter((f) => /^answers-.*\.jsonl$/.test(f.name))) {
      try {
        answers[f.name] = parseAnswers(await f.text());
      } catch (err) {
        problems.push(`${dir ? dir + '/' : ''}${f.name}: ${err.message}`);
      }
    }
    const own = files.find((f) => f.name === 'metrics.jsonl');
    const metrics = own ? [own] : files.filter((f) => !/^answers-/.test(f.name) && (dir === '' || /\.jsonl$/.test(f.name)));
    for (const f of metrics) {
      // A run folder is named by its path under the picked folder ("seed-1/amopo": method
      // names repeat across the experiment's seeds), or by its own name if it was picked.
      const parts = dir.split('/');
      const name = own && dir ? (parts.length > 1 ? parts.slice(1).join('/') : parts[0]) : f.name.replace(/\.[^.]*$/, '');
      addRun(name, await f.text(), answers);
    }
    if (!metrics.length && dir) problems.push(`${dir}: no metrics.jsonl in this folder`);
  }
  $('open-problems').textContent = problems.join('; ');
  redraw();
}

// loadExample opens the runs that ship with the page (web/examples): a short cmd/train
// run with AMoPO and the same run with fixed equal weights.
async function loadExample() {
  const status = $('open-problems');
  try {
    const index = await (await fetch('examples/index.json')).json();
    for (const ex of index) {
      const text = await (await fetch(`examples/${ex.dir}/metrics.jsonl`)).text();
      const answers = {};
      for (const a of ex.answers || []) answers[a] = parseAnswers(await (await fetch(`examples/${ex.dir}/${a}`)).text());
      addRun(ex.name, text, answers);
    }
    status.textContent = '';
  } catch (err) {
    status.textContent = `The example runs did not load: ${err.message}`;
  }
  redraw();
}

// follow opens the runs that cmd/web --run follows: every row the run writes arrives as
// a server-sent event; "reset" (the run rewrote its file: --resume, or a restart) and a
// reconnection (the server restarted) start the run over from the file's first row.
async function follow() {
  let list;
  try {
    const resp = await fetch('api/runs');
    if (!resp.ok) return;
    list = await resp.json();
  } catch {
    return; // served without cmd/web's run API (a static copy of the page)
  }
  if (!list.length) return;
  const status = $('live-status');
  status.hidden = false;
  status.textContent = `Following ${list.map((r) => r.name).join(', ')} as they train (cmd/web --run).`;
  for (const entry of list) {
    const run = addRun(entry.name, '', {}, true);
    const fetchAnswers = async () => {
      try {
        const resp = await fetch(`api/runs/${entry.id}/answers`);
        if (resp.ok) { run.answers = await resp.json(); scheduleRedraw(); }
      } catch { /* the next judge row tries again */ }
    };
    const es = new EventSource(`api/runs/${entry.id}/follow`);
    const restart = () => { run.rows = []; run.errors = []; run.lines = 0; scheduleRedraw(); };
    es.addEventListener('hello', restart);
    es.addEventListener('reset', restart);
    es.addEventListener('rows', (ev) => {
      const { rows, errors } = parseJSONL(ev.data, run.lines + 1);
      run.lines += ev.data.split('\n').length;
      run.rows.push(...rows);
      run.errors.push(...errors);
      if (rows.some((r) => isJudgeStage(stageOf(r)))) fetchAnswers();
      scheduleRedraw();
    });
    es.addEventListener('problem', (ev) => { status.textContent = `${entry.name}: ${ev.data}`; });
    es.onerror = () => { status.textContent = `Lost the connection to cmd/web; retrying (the page starts over when it is back).`; };
    es.onopen = () => { status.textContent = `Following ${list.map((r) => r.name).join(', ')} as they train (cmd/web --run).`; };
  }
  redraw();
  fetchAllAnswers(list);
}

async function fetchAllAnswers(list) {
  for (const entry of list) {
    try {
      const resp = await fetch(`api/runs/${entry.id}/answers`);
      const run = runs.find((r) => r.name === entry.name && r.live);
      if (resp.ok && run) run.answers = await resp.json();
    } catch { /* shown without intervals */ }
  }
  scheduleRedraw();
}

export function initInspect() {
  $('file').addEventListener('change', (ev) => { if (ev.target.files.length) openFiles([...ev.target.files]); });
  $('folder').addEventListener('change', (ev) => { if (ev.target.files.length) openFiles([...ev.target.files]); });
  $('example').addEventListener('click', loadExample);
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    if (ev.dataTransfer.files.length) openFiles([...ev.dataTransfer.files]);
  });
  drop.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); $('file').click(); }
  });
  for (const id of ['stage', 'x-axis', 'log-y']) $(id).addEventListener('change', scheduleRedraw);
  $('smoothing').addEventListener('input', () => {
    $('smoothing-value').textContent = smoothing() > 0 ? smoothing().toFixed(2) : 'off';
    scheduleRedraw();
  });
  $('pair-metric').addEventListener('change', scheduleRedraw);
  $('pairs').addEventListener('toggle', scheduleRedraw);
  follow();
}

// showRun opens a run made in this page (the toy training) like an opened file.
export function showRun(name, text) {
  addRun(name, text, {});
  redraw();
  $('inspect').scrollIntoView();
}

