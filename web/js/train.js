// Live training of cmd/amopo-demo's toy model inside the wasm: on GoMLX's webgpu backend
// (package engine over navigator.gpu) when the browser grants a WebGPU adapter, else on the
// pure-Go backend; the page says which backend ran (and why WebGPU did not, if it failed).
import { createChart, palette, fmt } from './plot.js';
import { call } from './wasm.js';
import { showRun } from './inspect.js';

const $ = (id) => document.getElementById(id);
let lastRun = null; // {name, jsonl} of the last training, for download and inspection

// adapterGranted is set by describeWebGPU: whether navigator.gpu gave an adapter.
let adapterGranted = false;

async function describeWebGPU() {
  const note = $('webgpu');
  let gpu = 'not available in this browser (no navigator.gpu)';
  if (navigator.gpu) {
    try {
      const adapter = await navigator.gpu.requestAdapter();
      const info = adapter && adapter.info ? [adapter.info.vendor, adapter.info.architecture, adapter.info.description].filter(Boolean).join(' ') : '';
      gpu = adapter ? `available (adapter: ${info || 'unnamed'})` : 'exposed, but no adapter was granted';
      adapterGranted = !!adapter;
    } catch (err) {
      gpu = `exposed, but requesting an adapter failed: ${err.message}`;
    }
  }
  const plan = adapterGranted
    ? "The toy model of cmd/amopo-demo trains on GoMLX's webgpu backend (package engine, WGSL kernels) in the wasm, " +
      "its variables initialised on the pure-Go backend; if that fails it falls back to the pure-Go backend."
    : "The toy model of cmd/amopo-demo trains on GoMLX's pure-Go backend (simplego) inside the wasm, single-threaded.";
  note.textContent = `WebGPU: ${gpu}. ${plan}`;
  document.body.dataset.webgpu = adapterGranted ? 'adapter' : (navigator.gpu ? 'present' : 'absent');
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
    const init = await call('trainInit', { loss: 'amopo', policy: $('train-policy').value, seed: Number($('train-seed').value), webgpu: adapterGranted });
    const dims = init.dimensions;
    state.trainBackend = init.webgpu ? 'webgpu' : 'go';
    $('train-backend').textContent = `Backend: ${init.backend}` +
      (init.webgpuError ? ` (WebGPU failed: ${init.webgpuError})` : '');
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
    lastRun = { name: `toy-${$('train-policy').value}-seed${$('train-seed').value}`, jsonl: rows.map((r) => JSON.stringify(r)).join('\n') + '\n' };
    $('train-download').disabled = $('train-inspect').disabled = false;
  } catch (err) {
    $('train-error').textContent = err.message;
    state.train = 'error';
  } finally {
    $('train-run').disabled = false;
  }
}

export async function initTrain() {
  await describeWebGPU();
  $('train-run').addEventListener('click', train);
  $('train-download').addEventListener('click', () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([lastRun.jsonl], { type: 'application/jsonl' }));
    a.download = lastRun.name + '.jsonl';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  $('train-inspect').addEventListener('click', () => showRun(lastRun.name, lastRun.jsonl));
  $('train-run').disabled = false;
}
