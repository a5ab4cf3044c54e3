// Boots the page: starts the Go wasm (wasm/page), which registers globalThis.amopo, then
// wires the three parts. Inspecting a run needs no wasm and works while it loads.
import { initSampling } from './sampling.js';
import { initInspect } from './inspect.js';
import { initTrain } from './train.js';

const status = document.getElementById('status');

initInspect();

async function startWasm() {
  const ready = new Promise((resolve) => addEventListener('amopo-ready', resolve, { once: true }));
  const go = new Go(); // from wasm_exec.js
  const { instance } = await WebAssembly.instantiateStreaming(fetch('amopo.wasm'), go.importObject);
  go.run(instance).then(() => {
    status.textContent = 'The lab stopped: reload the page.';
    document.body.dataset.wasm = 'exited';
  });
  await ready;
}

try {
  const start = performance.now();
  await startWasm();
  status.textContent = `Ready (loaded in ${((performance.now() - start) / 1000).toFixed(1)} s). ` +
    `The loss is computed by the engine's own code (amopo.Evaluate on ${globalThis.amopo.backend}), the weight draws by its float64 reference.`;
  document.body.dataset.wasm = 'ready';
  initSampling();
  initTrain();
} catch (err) {
  status.textContent = `The lab could not start (its WebAssembly did not load): ${err.message}`;
  status.classList.add('error');
  document.body.dataset.wasm = 'error';
}
