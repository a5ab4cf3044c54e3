// Live training of cmd/amopo-demo's toy model inside the wasm. The WebGPU backend of GoMLX
// has not landed in this repository, so the page says so and trains on the pure-Go backend.
import { createChart, palette, fmt } from './plot.js';
import { call } from './wasm.js';

const $ = (id) => document.getElementById(id);

async function describeWebGPU() {
  const note = $('webgpu');
  const fallback = "The WebGPU backend of GoMLX has not landed in this repository yet, so the toy model of " +
    "cmd/amopo-demo trains on GoMLX's pure-Go backend (simplego) inside the wasm, single-threaded.";
  let gpu = 'not available in this browser (no navigator.gpu)';
  if (navigator.gpu) {
    try {
      const adapter = await navigator.gpu.requestAdapter();
      const info = adapter && adapter.info ? [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' ') : '';
      gpu = adapter ? `available (adapter: ${info || 'unnamed'})` : 'exposed, but no adapter was granted';
    } catch (err) {
      gpu = `exposed, but requesting an adapter failed: ${err.message}`;
    }
  }
  note.textContent = `WebGPU: ${gpu}. ${fallback}`;
  document.body.dataset.webgpu = navigator.gpu ? 'present' : 'absent';
}

async function train() {
  const state = document.body.dataset;
  state.train = 'running';
  $('train-run').disabled = true;
  $('train-error').textContent = '';
  const steps = Number($('train-steps').value);
  const table = $('train-table');
  table.replaceChildren();
  const box = $('train-charts');
  box.replaceChildren();
  try {
    $('train-state').textContent = 'building the training graph…';
    const init = await call('trainInit', { loss: 'amopo', policy: $('train-policy').value, seed: Number($('train-seed').value) });
    const dims = init.dimensions;
    const lossChart = createChart(box, { title: 'loss per step', xLabel: 'step', yLabel: 'loss', kind: 'line', file: 'train_loss' });
    const alphaChart = createChart(box, { title: 'alpha per dimension', xLabel: 'step', yLabel: 'alpha', kind: 'line', file: 'train_alpha' });
    const head = table.insertRow();
    for (const c of ['step', 'loss', ...dims.map((d) => `alpha ${d}`)]) head.append(Object.assign(document.createElement('th'), { textContent: c }));
    const rows = [];
    const start = performance.now();
    for (let i = 0; i < steps; i++) {
      const m = await call('trainStep', {});
      rows.push(m);
      const tr = table.insertRow();
      tr.dataset.step = String(m.step);
      tr.dataset.loss = String(m.loss);
      tr.insertCell().textContent = String(m.step);
      tr.insertCell().textContent = fmt(m.loss);
      dims.forEach((d) => {
        const td = tr.insertCell();
        td.textContent = fmt(m[`weights/${d}_alpha`]);
        td.dataset.value = String(m[`weights/${d}_alpha`]);
      });
      lossChart.setData({ series: [{ name: 'loss', color: '#333', points: rows.map((r) => [r.step, r.loss]) }] });
      alphaChart.setData({ series: dims.map((d, j) => ({ name: d, color: palette[j % palette.length], points: rows.map((r) => [r.step, r[`weights/${d}_alpha`]]) })) });
      $('train-state').textContent = `step ${i + 1}/${steps} (${((performance.now() - start) / (i + 1)).toFixed(0)} ms/step, ${init.backend})`;
      await new Promise((r) => setTimeout(r, 0)); // let the page paint between steps
    }
    state.train = 'done';
  } catch (err) {
    $('train-error').textContent = err.message;
    state.train = 'error';
  } finally {
    $('train-run').disabled = false;
  }
}

export function initTrain() {
  describeWebGPU();
  $('train-run').addEventListener('click', train);
  $('train-run').disabled = false;
}
