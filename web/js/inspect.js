// Loss inspection of a real run: a metrics JSONL (cmd/amopo-demo --metrics, or a trainer's
// log with TRL names) plotted per dimension over the steps, plus pairwise panels.
import { createChart, palette, fmt } from './plot.js';

const $ = (id) => document.getElementById(id);
const metrics = ['alpha', 'mu', 'sigma', 'margins'];
const defaultDims = ['general', 'helpfulness', 'correctness', 'instruction_following'];
let run = null; // {rows, dims, name}

// parseJSONL returns the usable rows and a "line N: reason" for each skipped line.
export function parseJSONL(text) {
  const rows = [], errors = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `line ${i + 1}`;
    let obj;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      errors.push(`${where}: not valid JSON (${err.message})`);
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      errors.push(`${where}: not a JSON object`);
      return;
    }
    if (typeof obj.step !== 'number' || !Number.isFinite(obj.step)) {
      errors.push(`${where}: no numeric "step"`);
      return;
    }
    // cmd/train's rows carry their stage ("sft", "preference", "<name>_judge") as a string.
    const bad = Object.entries(obj).find(([k, v]) => typeof v !== 'number' && v !== null &&
      !(k === 'stage' && typeof v === 'string'));
    if (bad) {
      errors.push(`${where}: "${bad[0]}" is not a number`);
      return;
    }
    rows.push(obj);
  });
  // A trainer's log restarts its step count at each stage: plot the preference stage's
  // training rows, where the weights live (SFT rows, eval_* rows and judge summaries
  // have none).
  if (rows.some((r) => typeof r.stage === 'string')) {
    const pref = rows.filter((r) => r.stage === 'preference' && typeof r.loss === 'number');
    if (pref.length > 0) rows.splice(0, rows.length, ...pref);
  }
  // The dimensions are the names with a weights/<d>_alpha metric: the default four in
  // their usual order (JSON encoders sort keys), then any others as they appear.
  const dims = [];
  for (const r of rows) {
    for (const key of Object.keys(r)) {
      const m = /^weights\/(.+)_alpha$/.exec(key);
      if (m && !dims.includes(m[1])) dims.push(m[1]);
    }
  }
  const rank = (d) => (defaultDims.includes(d) ? defaultDims.indexOf(d) : defaultDims.length);
  dims.sort((a, b) => rank(a) - rank(b));
  return { rows, errors, dims };
}

function key(metric, dim) {
  return metric === 'margins' ? `rewards/${dim}_margins` : `weights/${dim}_${metric}`;
}

function series(rows, dims, metric) {
  return dims.map((d, i) => ({
    name: d,
    color: palette[i % palette.length],
    points: rows.filter((r) => typeof r[key(metric, d)] === 'number').map((r) => [r.step, r[key(metric, d)]]),
  }));
}

function show(name, text) {
  const { rows, errors, dims } = parseJSONL(text);
  const summary = $('inspect-summary');
  const list = $('inspect-errors');
  list.replaceChildren(...errors.map((e) => Object.assign(document.createElement('li'), { textContent: e })));
  summary.textContent = `${name}: ${rows.length} steps, K = ${dims.length} dimensions (${dims.join(', ')})` +
    (errors.length ? `, ${errors.length} line(s) skipped` : '');
  Object.assign(summary.dataset, { steps: String(rows.length), dims: dims.join(','), skipped: String(errors.length) });
  run = { rows, dims, name };
  $('inspect-out').hidden = rows.length === 0;
  if (rows.length) draw();
  document.body.dataset.inspect = 'done';
  document.body.dataset.inspectRuns = String(Number(document.body.dataset.inspectRuns || 0) + 1);
}

function draw() {
  const { rows, dims } = run;
  const box = $('run-charts');
  box.replaceChildren();
  const loss = createChart(box, { title: 'loss', xLabel: 'step', yLabel: 'loss', kind: 'line', file: 'loss' });
  loss.element.dataset.metric = 'loss';
  loss.setData({ series: [{ name: 'loss', color: '#333', points: rows.filter((r) => typeof r.loss === 'number').map((r) => [r.step, r.loss]) }] });
  for (const m of metrics) {
    const c = createChart(box, { title: m === 'margins' ? 'reward margin per dimension' : `${m} per dimension`, xLabel: 'step', yLabel: m, kind: 'line', file: m });
    c.element.dataset.metric = m;
    c.setData({ series: series(rows, dims, m) });
  }
  drawPairs();
}

function drawPairs() {
  const { rows, dims } = run;
  const m = $('pair-metric').value;
  const box = $('pair-charts');
  box.replaceChildren();
  for (let i = 0; i < dims.length; i++) {
    for (let j = i + 1; j < dims.length; j++) {
      const usable = rows.filter((r) => typeof r[key(m, dims[i])] === 'number' && typeof r[key(m, dims[j])] === 'number');
      const c = createChart(box, { title: `${m}: ${dims[i]} vs ${dims[j]}`, xLabel: dims[i], yLabel: dims[j], kind: 'scatter', height: 200, file: `${m}_${dims[i]}_vs_${dims[j]}` });
      c.element.dataset.metric = `pair:${m}`;
      c.setData({ series: [{ name: '', color: '#333', gradient: true,
        points: usable.map((r) => [r[key(m, dims[i])], r[key(m, dims[j])]]),
        label: (k) => `step ${usable[k].step}: ${dims[i]} ${fmt(usable[k][key(m, dims[i])])}, ${dims[j]} ${fmt(usable[k][key(m, dims[j])])}` }] });
    }
  }
}

async function open(file) {
  document.body.dataset.inspect = 'loading';
  show(file.name, await file.text());
}

export function initInspect() {
  $('file').addEventListener('change', (ev) => { if (ev.target.files[0]) open(ev.target.files[0]); });
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer.files[0];
    if (f) open(f);
  });
  $('pair-metric').addEventListener('change', () => { if (run && run.rows.length) drawPairs(); });
}
