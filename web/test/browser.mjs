// Drives the page in headless Chromium like a user and prints what it read back from the
// DOM as one JSON object on stdout; cmd/web's Go test checks the numbers.
//
//   node browser.mjs '{"url": "...", "outDir": "...", "metrics": "run.jsonl", "malformed": "bad.jsonl",
//                      "runsDir": "folder of cmd/train runs", "trainerMetrics": "one cmd/train metrics.jsonl",
//                      "smoothing": 0.6,
//                      "live": {"url": "... of cmd/web --run DIR", "file": "DIR/metrics.jsonl",
//                               "writer": ["amopo-demo", "--steps", "300", "--metrics", "DIR/metrics.jsonl"]},
//                      "sampling": {"seed": 7, "n": 300, "draw": 3, "policy": "gaussian", "loss": "amopo",
//                                   "chosen": ["0.9, 0.8", ...], "rejected": [...]},
//                      "trainSteps": 3}'
import { chromium } from 'playwright-core';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { inspectRuns, overflowing } from './inspect-checks.mjs';

const cfg = JSON.parse(process.argv[2]);
const out = { console: [] };
const timeout = 120_000;

// The flags of the platform notes: WebGPU on (SwiftShader), no sandbox (root in CI),
// nothing that reaches the network. Playwright gives the browser a fresh profile itself
// (it refuses --user-data-dir).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => out.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => out.console.push(`pageerror: ${e.message}`));
  await page.goto(cfg.url);
  // Inspecting runs needs no wasm: it works while the wasm loads.
  out.inspect = await inspectRuns(page, cfg, timeout);

  await page.waitForFunction(() => document.body.dataset.wasm && document.body.dataset.sampleRuns, null, { timeout });
  out.wasm = await page.evaluate(() => document.body.dataset.wasm);
  out.status = await page.textContent('#status');
  out.firstDrawMs = Number(await page.evaluate(() => document.body.dataset.firstDrawMs));
  await page.evaluate(() => { document.getElementById('sampling').open = true; document.getElementById('train').open = true; });

  // Sampling: set every input, click Draw, read the tables back.
  const s = cfg.sampling;
  await page.fill('#k', String(s.chosen.length));
  await page.dispatchEvent('#k', 'change');
  // A word that is not a number is refused, quoting what was typed.
  await page.fill('input[data-dim="0"][data-field="chosen"]', '0.9, abc');
  await page.click('#sample');
  await page.waitForFunction(() => document.body.dataset.sample === 'error', null, { timeout });
  out.badInput = await page.textContent('#sample-error');
  for (let i = 0; i < s.chosen.length; i++) {
    await page.fill(`input[data-dim="${i}"][data-field="chosen"]`, s.chosen[i]);
    await page.fill(`input[data-dim="${i}"][data-field="rejected"]`, s.rejected[i]);
  }
  await page.fill('#seed', String(s.seed));
  await page.fill('#n', String(s.n));
  await page.fill('#draw', String(s.draw));
  await page.selectOption('#policy', s.policy);
  await page.selectOption('#loss', s.loss);
  await page.click('#sample');
  await page.waitForFunction(() => document.body.dataset.sampleRuns === '2', null, { timeout });
  out.sample = await page.evaluate(() => {
    const cells = (sel) => [...document.querySelectorAll(sel)].map((td) => Number(td.dataset.value));
    const r = { state: document.body.dataset.sample, error: document.getElementById('sample-error').textContent, meanAlpha: {} };
    for (const p of ['gaussian', 'gaussian-split', 'fixed', 'uniform']) r.meanAlpha[p] = cells(`#alpha-table td[data-policy="${p}"][data-kind="mean_alpha"]`);
    r.drawRaw = cells('#alpha-table td[data-kind="raw"]');
    r.drawAlpha = cells('#alpha-table td[data-kind="alpha"]');
    r.loss = Number(document.querySelector('#loss-table td[data-field="loss"]').dataset.value);
    for (const f of ['alpha', 'mu', 'sigma', 'margins', 'losses']) r[f] = cells(`#loss-table td[data-field="${f}"]`);
    r.lossBackend = document.getElementById('loss-backend').textContent;
    r.histograms = document.querySelectorAll('#hist-charts figure').length;
    r.request = document.getElementById('loss-request').textContent;
    return r;
  });

  // Live training: a few steps of the toy model in the wasm (on WebGPU when an adapter is granted).
  await page.fill('#train-steps', String(cfg.trainSteps));
  await page.click('#train-run');
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.train), null, { timeout });
  out.train = await page.evaluate(() => ({
    state: document.body.dataset.train,
    error: document.getElementById('train-error').textContent,
    webgpu: document.body.dataset.webgpu,
    note: document.getElementById('webgpu').textContent,
    backend: document.body.dataset.trainBackend,
    backendNote: document.getElementById('train-backend').textContent,
    progress: document.getElementById('train-state').textContent,
    losses: [...document.querySelectorAll('#train-table tr[data-step]')].map((tr) => Number(tr.dataset.loss)),
  }));
  // The toy run opens in "Inspect a run" like a file, and downloads as JSONL.
  if (out.train.state === 'done') {
    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
    out.train.jsonl = join(cfg.outDir, 'toy.jsonl');
    await jsonl.saveAs(out.train.jsonl);
    await page.click('#train-inspect');
    await page.waitForFunction(() => document.querySelector('#run-list li[data-run^="toy-"]'), null, { timeout });
    out.train.inspected = await page.$eval('#run-list li[data-run^="toy-"]', (li) => ({ ...li.dataset }));
  }

  // The whole page at a phone's width and a desktop's: no element sticks out of its card.
  out.layouts = [];
  for (const width of [400, 1400]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(400); // the charts redraw on resize
    await page.evaluate(() => window.scrollTo(0, 0));
    const path = join(cfg.outDir, `page-${width}.png`);
    await page.screenshot({ path, fullPage: true });
    out.layouts.push({ width, screenshot: path, ...(await page.evaluate(overflowing)) });
  }

  if (cfg.live) out.live = await followLive(browser, cfg.live);
} catch (err) {
  out.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');

// followLive opens the page of a cmd/web --run server, starts a process that writes the
// run's metrics, and measures how long each newly written last step takes to show on the
// page; then rewrites the file shorter (as cmd/train --resume does) and checks the page
// starts over.
async function followLive(browser, live) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const res = { console: [], lags: [] };
  page.on('pageerror', (e) => res.console.push(`pageerror: ${e.message}`));
  await page.goto(live.url);
  await page.waitForFunction(() => document.querySelector('#run-list li[data-run]'), null, { timeout: 30_000 });
  const pageStep = () => page.evaluate(() => {
    const li = document.querySelector('#run-list li[data-run]');
    return li && li.dataset.lastStep !== '' ? Number(li.dataset.lastStep) : -1;
  });
  const fileSteps = () => {
    if (!existsSync(live.file)) return [];
    return readFileSync(live.file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => { try { return JSON.parse(l).step; } catch { return undefined; } })
      .filter((x) => x !== undefined);
  };
  const writer = spawn(live.writer[0], live.writer.slice(1), { stdio: 'ignore' });
  let done = false;
  const exited = new Promise((r) => writer.on('exit', (code) => { done = true; res.writerExit = code; r(); }));
  const seen = new Map(); // file's last step -> when it was first seen written
  const pending = [];
  while (!done || pending.length) {
    const steps = fileSteps();
    const last = steps.length ? steps[steps.length - 1] : -1;
    const now = Date.now();
    if (last >= 0 && !seen.has(last)) { seen.set(last, now); pending.push(last); }
    const shown = await pageStep();
    while (pending.length && shown >= pending[0]) res.lags.push({ step: pending[0], ms: Date.now() - seen.get(pending.shift()) });
    if (pending.length && now - seen.get(pending[0]) > 10_000) { res.stuck = { step: pending[0], shown }; break; }
    await new Promise((r) => setTimeout(r, 100));
  }
  await exited;
  const steps = fileSteps();
  res.fileLastStep = steps[steps.length - 1];
  res.fileRows = steps.length;
  const t0 = Date.now();
  while ((await pageStep()) !== res.fileLastStep && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
  res.pageLastStep = await pageStep();
  res.drawMs = Number(await page.evaluate(() => document.body.dataset.drawMs));
  res.finalLagMs = Date.now() - t0;
  // --resume: the file is replaced by its first rows only.
  const lines = readFileSync(live.file, 'utf8').split('\n').filter((l) => l.trim());
  writeFileSync(live.file + '.tmp', lines.slice(0, 5).join('\n') + '\n');
  renameSync(live.file + '.tmp', live.file);
  res.truncatedLastStep = JSON.parse(lines[4]).step;
  const t1 = Date.now();
  while ((await pageStep()) !== res.truncatedLastStep && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 50));
  res.afterTruncateStep = await pageStep();
  res.truncateLagMs = Date.now() - t1;
  res.afterTruncateRows = await page.evaluate(() => {
    const fig = document.querySelector('#run-charts figure[data-metric="loss"]');
    return fig ? fig.drawn().find((s) => s.role === 'raw').points.length : -1;
  });
  await page.close();
  return res;
}
