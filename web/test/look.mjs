// Ad-hoc: screenshots of the page for a person to look at (not part of the test suite).
import { chromium } from 'playwright-core';
const [url, out, width] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: Number(width || 1400), height: 900 } });
const logs = [];
page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
await page.goto(url);
await page.click('#example');
await page.waitForFunction(() => Number(document.body.dataset.inspectRuns) >= 3);
await page.waitForTimeout(500);
await page.fill('#smoothing', '0.6');
await page.dispatchEvent('#smoothing', 'input');
await page.waitForTimeout(500);
if (process.env.OPEN) {
  await page.waitForFunction(() => document.body.dataset.sampleRuns);
  await page.evaluate(() => { document.getElementById('sampling').open = true; document.getElementById('train').open = true; });
  await page.waitForTimeout(500);
}
await page.screenshot({ path: out, fullPage: true });
for (const y of (process.env.CLIPS || '').split(',').filter(Boolean).map(Number)) {
  await page.screenshot({ path: out.replace('.png', `-${y}.png`), fullPage: true, clip: { x: 0, y, width: Number(width), height: 1100 } });
}
console.log(logs.join('\n'));
await browser.close();
