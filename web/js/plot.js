// A small canvas chart: line, scatter and histogram plots with a legend drawn on the
// canvas (so the PNG export carries it), a hover tooltip with the nearest value, and a
// PNG download. No library: the page must work offline.

export const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2',
  '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd'];

const margin = { left: 56, right: 12, top: 28, bottom: 36 };

// createChart appends a figure to parent and returns {setData, element, canvas}.
// opts: {title, xLabel, yLabel, kind: 'line' | 'scatter' | 'hist', height, file}.
export function createChart(parent, opts) {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  const head = document.createElement('figcaption');
  const title = document.createElement('span');
  title.textContent = opts.title;
  const png = document.createElement('button');
  png.type = 'button';
  png.className = 'png';
  png.textContent = 'PNG';
  png.title = 'Download this plot as a PNG image';
  head.append(title, png);
  const wrap = document.createElement('div');
  wrap.className = 'canvas-wrap';
  const canvas = document.createElement('canvas');
  const tip = document.createElement('div');
  tip.className = 'tooltip';
  tip.hidden = true;
  wrap.append(canvas, tip);
  fig.append(head, wrap);
  parent.append(fig);

  const height = opts.height || 220;
  let data = { series: [] };
  let frame = null; // the scales of the last drawing, for hover lookups

  function draw() {
    const width = Math.max(wrap.clientWidth || 360, 200);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#fff'; // an opaque background, so the exported PNG is not transparent
    ctx.fillRect(0, 0, width, height);
    frame = render(ctx, width, height, opts, data);
  }

  function setData(d) {
    data = d;
    fig.dataset.points = String(d.series.reduce((n, s) => n + (s.points ? s.points.length : s.bins.length), 0));
    draw();
  }

  canvas.addEventListener('mousemove', (ev) => {
    if (!frame) return;
    const rect = canvas.getBoundingClientRect();
    const hit = nearest(frame, data, ev.clientX - rect.left, ev.clientY - rect.top, opts.kind);
    if (!hit) { tip.hidden = true; return; }
    tip.textContent = hit.text;
    tip.hidden = false;
    const left = Math.min(hit.px + 12, rect.width - tip.offsetWidth - 4);
    tip.style.left = Math.max(left, 0) + 'px';
    tip.style.top = Math.max(hit.py - 30, 0) + 'px';
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  png.addEventListener('click', () => {
    canvas.toBlob((blob) => {
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = (opts.file || opts.title).replace(/[^a-z0-9_-]+/gi, '_') + '.png';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    }, 'image/png');
  });
  new ResizeObserver(() => draw()).observe(wrap);
  // pixelOf gives the page position of a point, so a test can hover it like a user.
  fig.pixelOf = (si, pi) => {
    const [x, y] = data.series[si].points[pi];
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + frame.sx(x), y: rect.top + frame.sy(y) };
  };
  return { setData, element: fig, canvas };
}

function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) { const pad = Math.abs(lo) * 0.05 || 0.5; return [lo - pad, hi + pad]; }
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

function ticks(lo, hi, n) {
  const step0 = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

function render(ctx, width, height, opts, data) {
  const xs = [], ys = [];
  for (const s of data.series) {
    if (s.points) for (const [x, y] of s.points) { xs.push(x); ys.push(y); }
    if (s.bins) for (const b of s.bins) { xs.push(b.x0, b.x1); ys.push(0, b.count); }
  }
  const [x0, x1] = data.xDomain || extent(xs);
  let [y0, y1] = data.yDomain || extent(ys);
  if (opts.kind === 'hist') y0 = 0;
  const pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom;
  const sx = (x) => margin.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y) => margin.top + ph - ((y - y0) / (y1 - y0)) * ph;

  ctx.font = '11px system-ui, sans-serif';
  ctx.strokeStyle = '#e3e3e3';
  ctx.fillStyle = '#555';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const t of ticks(y0, y1, 4)) {
    ctx.beginPath(); ctx.moveTo(margin.left, sy(t)); ctx.lineTo(margin.left + pw, sy(t)); ctx.stroke();
    ctx.fillText(fmt(t), margin.left - 4, sy(t));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of ticks(x0, x1, 6)) {
    ctx.beginPath(); ctx.moveTo(sx(t), margin.top); ctx.lineTo(sx(t), margin.top + ph); ctx.stroke();
    ctx.fillText(fmt(t), sx(t), margin.top + ph + 3);
  }
  ctx.strokeStyle = '#888';
  ctx.strokeRect(margin.left, margin.top, pw, ph);
  if (opts.xLabel) ctx.fillText(opts.xLabel, margin.left + pw / 2, height - 14);
  if (opts.yLabel) {
    ctx.save(); ctx.translate(12, margin.top + ph / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(opts.yLabel, 0, -6); ctx.restore();
  }

  ctx.save();
  ctx.beginPath(); ctx.rect(margin.left, margin.top, pw, ph); ctx.clip();
  for (const s of data.series) {
    ctx.strokeStyle = ctx.fillStyle = s.color;
    if (s.bins) {
      ctx.globalAlpha = 0.35;
      for (const b of s.bins) ctx.fillRect(sx(b.x0), sy(b.count), Math.max(sx(b.x1) - sx(b.x0), 1), sy(0) - sy(b.count));
      ctx.globalAlpha = 1;
      ctx.beginPath();
      for (const b of s.bins) { ctx.moveTo(sx(b.x0), sy(b.count)); ctx.lineTo(sx(b.x1), sy(b.count)); }
      ctx.lineWidth = 1.5; ctx.stroke();
    } else if (opts.kind === 'scatter') {
      s.points.forEach(([x, y], i) => {
        // Colour by position along the run when asked, so the path of the weights shows.
        if (s.gradient) ctx.fillStyle = stepColor(i / Math.max(s.points.length - 1, 1));
        ctx.beginPath(); ctx.arc(sx(x), sy(y), 2.5, 0, 2 * Math.PI); ctx.fill();
      });
    } else {
      ctx.lineWidth = 1.8;
      ctx.beginPath();
      s.points.forEach(([x, y], i) => (i ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
      ctx.stroke();
    }
  }
  ctx.restore();

  // Legend, top right, on the canvas itself.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  let lx = margin.left;
  for (const s of data.series) {
    if (!s.name) continue;
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, 10, 10, 10);
    ctx.fillStyle = '#333';
    ctx.fillText(s.name, lx + 14, 15);
    lx += 22 + ctx.measureText(s.name).width;
  }
  return { sx, sy, pw, ph };
}

function stepColor(t) {
  return `hsl(${Math.round(240 - 240 * t)}, 70%, 45%)`;
}

// nearest finds the data point (or histogram bin) under the mouse.
function nearest(frame, data, mx, my, kind) {
  let best = null, bestD = 18 * 18;
  for (const s of data.series) {
    if (s.bins) {
      for (const b of s.bins) {
        if (mx >= frame.sx(b.x0) && mx <= frame.sx(b.x1) && my >= frame.sy(b.count) - 4) {
          const d = Math.abs(my - frame.sy(b.count));
          if (!best || d < best.d) {
            best = { d, px: mx, py: frame.sy(b.count), text: `${s.name}: [${fmt(b.x0)}, ${fmt(b.x1)}) count ${b.count}` };
          }
        }
      }
      continue;
    }
    s.points.forEach(([x, y], i) => {
      const dx = frame.sx(x) - mx, dy = frame.sy(y) - my, d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        const label = s.label ? s.label(i) : `step ${fmt(x)}: ${fmt(y)}`;
        best = { px: frame.sx(x), py: frame.sy(y), text: (s.name ? s.name + ' · ' : '') + label };
      }
    });
  }
  return best;
}

// histogram bins values into n equal bins over [lo, hi].
export function histogram(values, lo, hi, n) {
  if (hi <= lo) { hi = lo + 1e-6; }
  const width = (hi - lo) / n;
  const bins = Array.from({ length: n }, (_, i) => ({ x0: lo + i * width, x1: lo + (i + 1) * width, count: 0 }));
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const i = Math.min(n - 1, Math.max(0, Math.floor((v - lo) / width)));
    bins[i].count++;
  }
  return bins;
}
