// Weight sampling: per-dimension inputs, the Gaussians as curves, histograms of the raw
// draws and of alpha for every policy, and the loss of one draw through the JSON contract.
import { createChart, histogram, palette, fmt } from './plot.js';
import { call } from './wasm.js';

const policies = ['gaussian', 'gaussian-split', 'fixed', 'uniform'];
const defaultDims = ['general', 'helpfulness', 'correctness', 'instruction_following'];
// Defaults that give the four dimensions visibly different Gaussians.
const defaultProbs = [
  ['0.62, 0.48, 0.71', '0.35, 0.41'],
  ['0.9, 0.85, 0.8, 0.88', '0.2, 0.3, 0.25'],
  ['0.55, 0.2, 0.9', '0.5, 0.1, 0.7'],
  ['0.95, 0.97', '0.6, 0.9, 0.4'],
];

const $ = (id) => document.getElementById(id);
let dims = [];
let charts = null;

function newDim(i) {
  const [chosen, rejected] = defaultProbs[i] || ['0.7, 0.6', '0.4, 0.3'];
  return { name: defaultDims[i] || `dim_${i + 1}`, chosen, rejected, mu: 0.5, sigma: 0.1, weight: 1 };
}

// parseList reads a list of numbers; with where set, a word that is not a number is an
// error that quotes what was typed (an empty list too), instead of a silent 0 or NaN.
function parseList(text, where) {
  const words = String(text).split(/[\s,;]+/).filter((s) => s !== '');
  const out = words.map(Number);
  if (where) {
    const bad = words.find((w, i) => !Number.isFinite(out[i]));
    if (bad !== undefined) throw new Error(`${where}: "${bad}" is not a number (you typed "${text}")`);
    if (!words.length) throw new Error(`${where}: empty; type one or more numbers, like 0.9, 0.8`);
  }
  return out;
}

// number reads one numeric input; an empty or invalid one is an error that says so (a
// number input reports what the browser could not read as an empty value).
function number(id, what, strict) {
  const el = $(id);
  if (strict && (el.value.trim() === '' || !Number.isFinite(Number(el.value)) || (el.validity && el.validity.badInput))) {
    throw new Error(`${what}: "${el.value}" is not a number`);
  }
  return Number(el.value);
}

function value(d, field, i, strict) {
  const v = Number(d[field]);
  if (strict && (String(d[field]).trim() === '' || !Number.isFinite(v))) {
    throw new Error(`dimension ${i + 1} (${d.name}), ${field}: "${d[field]}" is not a number`);
  }
  return v;
}

// request is the sampling.Request (wasm/sampling) of the current inputs for one policy.
// With strict, an input that is not a number is an error quoting it (for Draw); the
// JSON preview is lenient and shows what it can while the user types.
function request(policy, strict = false) {
  const req = { policy, dimensions: dims.map((d) => d.name), seed: number('seed', 'Seed', strict), n: number('n', 'Draws N', strict) };
  const at = (d, i, what) => (strict ? `dimension ${i + 1} (${d.name}), ${what}` : '');
  if ($('mode').value === 'probs') {
    req.chosen_probs = dims.map((d, i) => parseList(d.chosen, at(d, i, 'chosen token probabilities')));
    req.rejected_probs = dims.map((d, i) => parseList(d.rejected, at(d, i, 'rejected token probabilities')));
  } else {
    req.mu = dims.map((d, i) => value(d, 'mu', i, strict));
    req.sigma = dims.map((d, i) => value(d, 'sigma', i, strict));
  }
  if (policy === 'fixed') req.weights = dims.map((d, i) => value(d, 'weight', i, strict));
  return req;
}

function renderRows() {
  const body = $('dims').tBodies[0];
  body.replaceChildren();
  dims.forEach((d, i) => {
    const tr = document.createElement('tr');
    const cell = (field, cls, type = 'text') => {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      const input = document.createElement('input');
      input.type = type;
      if (type === 'number') input.step = 'any';
      input.value = d[field];
      input.dataset.dim = String(i);
      input.dataset.field = field;
      input.setAttribute('aria-label', `${field} of dimension ${i + 1}`);
      input.addEventListener('input', () => { d[field] = input.value; syncJSON(); });
      td.append(input);
      tr.append(td);
    };
    cell('name');
    cell('chosen', 'probs');
    cell('rejected', 'probs');
    cell('mu', 'gauss', 'number');
    cell('sigma', 'gauss', 'number');
    cell('weight', '', 'number');
    body.append(tr);
  });
  syncJSON();
}

function syncJSON() {
  $('request-json').value = JSON.stringify(request($('policy').value), null, 1).replace(/\n\s*(?=[\d.-])/g, ' ');
}

function setMode() {
  $('dims').dataset.mode = $('mode').value;
  syncJSON();
}

// loadJSON fills the inputs from a pasted sampling request.
function loadJSON() {
  $('json-error').textContent = '';
  try {
    const req = JSON.parse($('request-json').value);
    const k = (req.chosen_probs || req.mu || []).length;
    if (!k) throw new Error('chosen_probs (or mu) must list one entry per dimension');
    dims = Array.from({ length: k }, (_, i) => {
      const d = newDim(i);
      if (req.dimensions && req.dimensions[i]) d.name = req.dimensions[i];
      if (req.chosen_probs) d.chosen = (req.chosen_probs[i] || []).join(', ');
      if (req.rejected_probs) d.rejected = (req.rejected_probs[i] || []).join(', ');
      if (req.mu) d.mu = req.mu[i];
      if (req.sigma) d.sigma = req.sigma[i];
      if (req.weights) d.weight = req.weights[i];
      return d;
    });
    $('k').value = k;
    $('mode').value = req.chosen_probs ? 'probs' : 'gauss';
    for (const f of ['policy', 'seed', 'n']) if (req[f] !== undefined) $(f).value = req[f];
    renderRows();
    setMode();
  } catch (err) {
    $('json-error').textContent = err.message;
  }
}

function setK() {
  const k = Math.max(1, Math.min(16, Number($('k').value) || 1));
  if (k === dims.length) return; // a change event on blur must not rebuild the rows being edited
  while (dims.length < k) dims.push(newDim(dims.length));
  dims.length = k;
  renderRows();
}

function gaussianCurves(mu, sigma, names) {
  let lo = Infinity, hi = -Infinity;
  mu.forEach((m, i) => { lo = Math.min(lo, m - 4 * sigma[i]); hi = Math.max(hi, m + 4 * sigma[i]); });
  if (hi - lo < 1e-3) { lo -= 0.5; hi += 0.5; }
  return names.map((name, i) => {
    const s = Math.max(sigma[i], (hi - lo) / 400); // a zero sigma shows as a narrow spike
    const points = [];
    for (let j = 0; j <= 200; j++) {
      const x = lo + ((hi - lo) * j) / 200;
      points.push([x, Math.exp(-0.5 * ((x - mu[i]) / s) ** 2) / (s * Math.sqrt(2 * Math.PI))]);
    }
    return { name, color: palette[i % palette.length], points,
      label: (j) => `N(${fmt(mu[i])}, ${fmt(sigma[i])}²) at ${fmt(points[j][0])}: density ${fmt(points[j][1])}` };
  });
}

// histSeries bins each dimension's draws; draws that are all one value (fixed and uniform
// weights) get 5 wide bins, so the dimensions' bars stand side by side and readable.
function histSeries(rows, names, lo, hi) {
  const all = rows.flat();
  const bins = Math.max(...all) - Math.min(...all) < 1e-9 ? 5 : 40;
  return names.map((name, d) => ({ name, color: palette[d % palette.length], bins: histogram(rows.map((r) => r[d]), lo, hi, bins) }));
}

function valueCell(tr, v, attrs) {
  const td = document.createElement('td');
  td.textContent = fmt(v);
  td.title = String(v);
  td.dataset.value = String(v);
  Object.assign(td.dataset, attrs);
  tr.append(td);
}

function headerRow(table, cells) {
  const tr = table.insertRow();
  for (const c of cells) {
    const th = document.createElement('th');
    th.textContent = c;
    tr.append(th);
  }
}

function renderAlphaTable(results, names, policy, draw) {
  const table = $('alpha-table');
  table.replaceChildren();
  headerRow(table, ['', ...names]);
  for (const [p, r] of Object.entries(results)) {
    const tr = table.insertRow();
    tr.insertCell().textContent = `${p}: mean alpha`;
    r.mean_alpha.forEach((v, d) => valueCell(tr, v, { policy: p, kind: 'mean_alpha', dim: String(d) }));
  }
  const r = results[policy];
  if (!r) return;
  for (const kind of ['raw', 'alpha']) {
    const tr = table.insertRow();
    tr.insertCell().textContent = `${policy}: draw ${draw} ${kind}`;
    r[kind][draw].forEach((v, d) => valueCell(tr, v, { policy, kind, dim: String(d) }));
  }
}

function renderLoss(ans, names) {
  const table = $('loss-table');
  table.replaceChildren();
  headerRow(table, ['', ...names]);
  const e = ans.evaluate;
  for (const field of ['alpha', 'mu', 'sigma', 'margins', 'losses']) {
    const tr = table.insertRow();
    tr.insertCell().textContent = field;
    e[field].forEach((v, d) => valueCell(tr, v, { field, dim: String(d) }));
  }
  const tr = table.insertRow();
  tr.insertCell().textContent = 'loss';
  valueCell(tr, e.loss, { field: 'loss' });
  const rel = Math.abs(e.loss - ans.reference.loss) / Math.max(Math.abs(ans.reference.loss), 1e-300);
  const td = tr.insertCell();
  td.colSpan = Math.max(names.length - 1, 1);
  td.className = 'muted';
  td.textContent = `float64 reference: ${ans.reference.loss} (relative difference ${rel.toExponential(1)})`;
  $('loss-backend').textContent = `(${ans.backend})`;
  $('loss-request').textContent = JSON.stringify(ans.request);
}

async function run() {
  const state = document.body.dataset;
  state.sample = 'running';
  $('sample').disabled = true;
  $('sample-error').textContent = '';
  try {
    const mode = $('mode').value;
    const results = {};
    for (const p of policies) {
      if (p === 'gaussian-split' && mode === 'gauss') continue; // it needs token probabilities
      results[p] = await call('sample', request(p, true));
    }
    const names = results.gaussian.dimensions;
    const policy = $('policy').value in results ? $('policy').value : 'gaussian';
    const draw = Math.min(number('draw', 'Loss at draw', true), Number($('n').value) - 1);
    $('n-shown').textContent = $('n').value;
    $('draw-shown').textContent = $('draw-shown2').textContent = String(draw);
    $('sample-out').hidden = false;
    drawCharts(results, names);
    renderAlphaTable(results, names, policy, draw);
    if (mode === 'probs') {
      renderLoss(await call('loss', { sampling: request(policy, true), loss: $('loss').value, draw }), names);
    } else {
      $('loss-table').replaceChildren();
      $('loss-backend').textContent = '(the loss needs token probabilities, not mu and sigma)';
    }
    state.sample = 'done';
    if (!state.firstDrawMs) state.firstDrawMs = String(Math.round(performance.now()));
    state.sampleRuns = String(Number(state.sampleRuns || 0) + 1);
  } catch (err) {
    $('sample-error').textContent = err.message;
    state.sample = 'error';
  } finally {
    $('sample').disabled = false;
  }
}

function drawCharts(results, names) {
  const gauss = $('gauss-charts'), hist = $('hist-charts');
  gauss.replaceChildren();
  hist.replaceChildren();
  const g = results.gaussian;
  createChart(gauss, { title: 'Gaussian of each dimension (gaussian: tokens pooled)', xLabel: 'raw weight', yLabel: 'density', kind: 'line', file: 'gaussians' })
    .setData({ series: gaussianCurves(g.mu, g.sigma, names) });
  const s = results['gaussian-split'];
  if (s) {
    createChart(gauss, { title: 'gaussian-split: law of the summed chosen + rejected draws', xLabel: 'raw weight', yLabel: 'density', kind: 'line', file: 'gaussians_split' })
      .setData({ series: gaussianCurves(s.mu, s.sigma, names) });
  }
  for (const [p, r] of Object.entries(results)) {
    const raws = r.raw.flat();
    let lo = Math.min(...raws), hi = Math.max(...raws);
    const pad = hi - lo < 1e-6 ? 0.05 : (hi - lo) * 1e-6; // fixed and uniform draw one value
    lo -= pad;
    hi += pad;
    createChart(hist, { title: `${p}: raw draws`, xLabel: 'raw weight', yLabel: 'count', kind: 'hist', file: `hist_${p}_raw` })
      .setData({ series: histSeries(r.raw, names, lo, hi) });
    const alphas = r.alpha.flat();
    const alo = Math.max(0, Math.min(...alphas) - 0.02), ahi = Math.min(1, Math.max(...alphas) + 0.02);
    createChart(hist, { title: `${p}: alpha`, xLabel: 'alpha', yLabel: 'count', kind: 'hist', file: `hist_${p}_alpha` })
      .setData({ series: histSeries(r.alpha, names, alo, ahi) });
  }
}

export function initSampling() {
  dims = defaultDims.map((_, i) => newDim(i));
  renderRows();
  setMode();
  $('k').addEventListener('change', setK);
  $('mode').addEventListener('change', setMode);
  for (const id of ['policy', 'seed', 'n']) $(id).addEventListener('input', syncJSON);
  $('load-json').addEventListener('click', loadJSON);
  $('sample').addEventListener('click', run);
  $('sample').disabled = false;
  run();
}
