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
    status.textContent = 'The Go wasm exited: reload the page.';
    document.body.dataset.wasm = 'exited';
  });
  await ready;
}

try {
  const start = performance.now();
  await startWasm();
  status.textContent = `Go wasm ready in ${((performance.now() - start) / 1000).toFixed(1)} s: ` +
    `the loss runs as amopo.Evaluate on ${globalThis.amopo.backend}; the weight draws use the float64 reference (amopo/ref).`;
  document.body.dataset.wasm = 'ready';
  initSampling();
  initTrain();
} catch (err) {
  status.textContent = `The Go wasm did not start: ${err.message}`;
  status.classList.add('error');
  document.body.dataset.wasm = 'error';
}
