// Drives the page in headless Chromium like a user and prints what it read back from the
// DOM as one JSON object on stdout; cmd/web's Go test checks the numbers.
//
//   node browser.mjs '{"url": "...", "outDir": "...", "metrics": "run.jsonl", "malformed": "bad.jsonl",
//                      "sampling": {"seed": 7, "n": 300, "draw": 3, "policy": "gaussian", "loss": "amopo",
//                                   "chosen": ["0.9, 0.8", ...], "rejected": [...]},
//                      "trainSteps": 3}'
import { chromium } from 'playwright-core';
import { join } from 'node:path';

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
  await page.waitForFunction(() => document.body.dataset.wasm && document.body.dataset.sampleRuns, null, { timeout });
  out.wasm = await page.evaluate(() => document.body.dataset.wasm);
  out.status = await page.textContent('#status');

  // Sampling: set every input, click Draw, read the tables back.
  const s = cfg.sampling;
  await page.fill('#k', String(s.chosen.length));
  await page.dispatchEvent('#k', 'change');
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

  // A malformed file first: its errors are listed, its good lines kept.
  await page.setInputFiles('#file', cfg.malformed);
  await page.waitForFunction(() => document.body.dataset.inspectRuns === '1', null, { timeout });
  out.malformed = await page.evaluate(() => ({
    summary: document.getElementById('inspect-summary').dataset,
    errors: [...document.querySelectorAll('#inspect-errors li')].map((li) => li.textContent),
  }));

  // The real run's metrics: charts, then hover a point of the alpha chart and read the tooltip.
  await page.setInputFiles('#file', cfg.metrics);
  await page.waitForFunction(() => document.body.dataset.inspectRuns === '2', null, { timeout });
  const summary = await page.evaluate(() => ({ ...document.getElementById('inspect-summary').dataset }));
  const charts = await page.evaluate(() => [...document.querySelectorAll('#run-charts figure, #pair-charts figure')]
    .map((f) => ({ metric: f.dataset.metric, points: Number(f.dataset.points) })));
  const hoverAt = await page.evaluate(() => {
    const fig = document.querySelector('#run-charts figure[data-metric="alpha"]');
    fig.scrollIntoView();
    return fig.pixelOf(1, 5); // dimension 1, the 6th step
  });
  await page.mouse.move(hoverAt.x, hoverAt.y);
  const tooltip = await page.evaluate(() => {
    const t = document.querySelector('#run-charts figure[data-metric="alpha"] .tooltip');
    return t.hidden ? '' : t.textContent;
  });
  out.inspect = { summary, charts, tooltip, errors: await page.$$eval('#inspect-errors li', (l) => l.length) };

  // The PNG export of one plot: a real download of canvas.toBlob's PNG.
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.click('#run-charts figure[data-metric="alpha"] button.png')]);
  out.pngExport = join(cfg.outDir, 'alpha.png');
  await download.saveAs(out.pngExport);

  // A cmd/train run's metrics (stages, eval and judge rows): the preference stage is plotted.
  if (cfg.trainerMetrics) {
    await page.setInputFiles('#file', cfg.trainerMetrics);
    await page.waitForFunction(() => document.body.dataset.inspectRuns === '3', null, { timeout });
    out.trainerRun = await page.evaluate(() => ({
      summary: { ...document.getElementById('inspect-summary').dataset },
      errors: [...document.querySelectorAll('#inspect-errors li')].map((li) => li.textContent),
    }));
  }

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

  await page.evaluate(() => window.scrollTo(0, 0));
  out.screenshot = join(cfg.outDir, 'page.png');
  await page.screenshot({ path: out.screenshot, fullPage: true });
} catch (err) {
  out.error = String(err && err.stack || err);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
