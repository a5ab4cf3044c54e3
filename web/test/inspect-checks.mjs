// The "Inspect a run" part of the browser test (browser.mjs): it opens metrics files like a
// user (file picker, folder picker, keyboard), turns the controls, and reads back what is
// drawn; cmd/web's Go test checks the numbers against the files.
import { join } from 'node:path';

// waitRedraw waits for a drawing after the count `before` with none still pending (a
// drawing scheduled by an earlier change may land first).
const waitRedraw = async (page, before, timeout) =>
  page.waitForFunction((n) => Number(document.body.dataset.redraws || 0) > n && !document.body.dataset.pending, before, { timeout });
const redraws = (page) => page.evaluate(() => Number(document.body.dataset.redraws || 0));

export async function inspectRuns(page, cfg, timeout) {
  const out = {};
  // The file picker is reachable by keyboard: the drop zone opens it on Enter.
  const chosen = page.waitForEvent('filechooser', { timeout: 10_000 });
  await page.focus('#drop'); // (a round trip: the chooser is intercepted by now)
  await page.keyboard.press('Enter');
  out.keyboardChooser = (await chosen).isMultiple();
  out.fileInputLabel = await page.evaluate(() => document.getElementById('file').labels[0].textContent.trim());

  // A malformed file: its errors are listed (quoting the line), its good rows kept.
  let n = await redraws(page);
  await page.setInputFiles('#file', cfg.malformed);
  await waitRedraw(page, n, timeout);
  out.malformed = await page.evaluate(() => ({
    run: { ...document.querySelector('#run-list li[data-run]').dataset },
    errors: [...document.querySelectorAll('#inspect-errors li')].map((li) => li.textContent),
  }));
  n = await redraws(page);
  await page.click('#run-list li[data-run] button');
  await waitRedraw(page, n, timeout);

  // A single cmd/train run, then a folder of two runs: three side by side.
  n = await redraws(page);
  await page.setInputFiles('#file', cfg.trainerMetrics);
  await waitRedraw(page, n, timeout);
  n = await redraws(page);
  await page.setInputFiles('#folder', cfg.runsDir);
  await page.waitForFunction(() => document.querySelectorAll('#run-list li[data-run]').length === 3, null, { timeout });
  out.runs = await page.$$eval('#run-list li[data-run]', (lis) => lis.map((li) => ({ ...li.dataset, text: li.textContent })));
  out.stages = await page.$$eval('#stage option', (os) => os.map((o) => o.value));
  out.stage = await page.inputValue('#stage');
  out.scalars = await page.$$eval('#scalar-list input', (cbs) => cbs.map((c) => ({ id: c.value, checked: c.checked })));

  // Smoothing: on by default (0.6, as TensorBoard); set to the test's weight.
  out.defaultSmoothing = Number(await page.inputValue('#smoothing'));
  n = await redraws(page);
  await page.fill('#smoothing', String(cfg.smoothing));
  await page.dispatchEvent('#smoothing', 'input');
  await waitRedraw(page, n, timeout);
  const drawn = () => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#run-charts figure')]
    .map((f) => [f.dataset.metric, { series: Number(f.dataset.series), drawn: f.drawn() }])));
  out.charts = await drawn();
  out.judge = await page.$$eval('#judge-table td[data-run]', (tds) => tds.map((td) => ({ ...td.dataset })));
  out.judgeNote = await page.textContent('#judge-note');
  out.final = await page.$$eval('#final-table td[data-run]', (tds) => tds.map((td) => ({ ...td.dataset })));

  // Legend: clicking an entry hides its series, clicking again shows it.
  const loss = '#run-charts figure[data-metric="loss"]';
  const seriesOf = () => page.$eval(loss, (f) => Number(f.dataset.series));
  out.legend = { before: await seriesOf() };
  await page.click(`${loss} .legend button.entry >> nth=0`);
  out.legend.hidden = await seriesOf();
  await page.click(`${loss} .legend button.entry >> nth=0`);
  out.legend.after = await seriesOf();

  // Zoom: drag across the middle of the loss plot, then double-click to reset.
  await page.$eval(loss, (f) => f.scrollIntoView());
  const box = await page.$eval(`${loss} canvas`, (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
  out.zoom = { full: await page.$eval(loss, (f) => f.view()) };
  await page.mouse.move(box.x + box.w * 0.4, box.y + box.h / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.w * 0.6, box.y + box.h / 2, { steps: 5 });
  await page.mouse.up();
  out.zoom.zoomed = await page.$eval(loss, (f) => f.view());
  await page.mouse.dblclick(box.x + box.w / 2, box.y + box.h / 2);
  out.zoom.reset = await page.$eval(loss, (f) => f.view());
  // The same from the keyboard: Tab to the plot, + zooms in, Escape resets.
  await page.focus(`${loss} canvas`);
  await page.keyboard.press('+');
  out.zoom.keyZoomed = await page.$eval(loss, (f) => f.view());
  await page.keyboard.press('Escape');
  out.zoom.keyReset = await page.$eval(loss, (f) => f.view());

  // The PNG export: twice the size, with the title and the runs named.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(`${loss} button.png`)]);
  out.pngExport = join(cfg.outDir, 'loss.png');
  await download.saveAs(out.pngExport);
  out.pngCssWidth = box.w;

  // x as tokens: a step's x is the run's running token count.
  n = await redraws(page);
  await page.selectOption('#x-axis', 'tokens');
  await waitRedraw(page, n, timeout);
  out.tokens = await page.$eval(loss, (f) => f.drawn());
  n = await redraws(page);
  await page.selectOption('#x-axis', 'step');
  await page.check('#log-y');
  await waitRedraw(page, n, timeout);

  // The SFT stage: its own rows, and a plain-words note instead of empty weight charts.
  n = await redraws(page);
  await page.selectOption('#stage', 'sft');
  await waitRedraw(page, n, timeout);
  out.sft = { charts: await drawn(), note: await page.textContent('#dims-note') };
  n = await redraws(page);
  await page.selectOption('#stage', 'preference');
  await page.uncheck('#log-y');
  await waitRedraw(page, n, timeout);
  return out;
}

// overflowing runs in the page: every visible element inside a card (a section, a folded
// section, a chart) must lie within it, except inside a scrolling table wrapper; the page
// must not scroll sideways.
export function overflowing() {
  const bad = [];
  const cards = document.querySelectorAll('main > section, main > details.section, figure.chart');
  for (const card of cards) {
    const c = card.getBoundingClientRect();
    if (c.width === 0) continue;
    for (const el of card.querySelectorAll('*')) {
      if (el.closest('.table-wrap') && !el.classList.contains('table-wrap')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (r.left < c.left - 1 || r.right > c.right + 1) {
        bad.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} [${Math.round(r.left)}, ${Math.round(r.right)}] outside ` +
          `${card.tagName.toLowerCase()}${card.id ? '#' + card.id : ''} [${Math.round(c.left)}, ${Math.round(c.right)}]`);
      }
    }
  }
  return { overflow: bad.slice(0, 20), overflowCount: bad.length, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, cards: cards.length };
}
