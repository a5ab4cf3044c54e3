// A small canvas chart: line, scatter and histogram plots with a hover tooltip, an HTML
// legend that wraps and toggles series, zoom (drag a range; Ctrl+wheel) and pan
// (Shift+drag) with a double-click reset, a log y scale, integer step ticks, and a PNG
// export at twice the size with the title, the run names and the legend drawn in.
// No library: the page must work offline.

export const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2',
  '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd'];

// dashes: one line style per run, so several runs read apart in one chart.
export const dashes = [[], [7, 4], [2, 3], [9, 3, 2, 3], [12, 6], [4, 2, 4, 6]];

const margin = { left: 60, right: 12, top: 12, bottom: 36 };

// createChart appends a figure to parent and returns {setData, element, canvas}.
// opts: {title, xLabel, yLabel, kind: 'line' | 'scatter' | 'hist', height, file, subtitle,
// integerX (ticks on whole numbers only)}.
// A series: {name, legend (the legend entry it toggles with; default name), color, dash,
// faint (drawn thin and pale: the raw values under a smoothed line), markers, points
// [[x, y]...] or bins [{x0, x1, count}], gradient, label(i)}. setData also takes
// {logY, xDomain, yDomain}.
export function createChart(parent, opts) {
  const fig = document.createElement('figure');
  fig.className = 'chart';
  const head = document.createElement('figcaption');
  const title = document.createElement('span');
  title.className = 'title';
  title.textContent = opts.title;
  const tools = document.createElement('span');
  tools.className = 'tools';
  const reset = button('reset zoom', 'Show all the data again (or double-click the plot)');
  reset.hidden = true;
  const png = button('PNG', 'Download this plot as a PNG image (twice the size on screen)');
  png.className = 'png';
  tools.append(reset, png);
  head.append(title, tools);
  const wrap = document.createElement('div');
  wrap.className = 'canvas-wrap';
  const canvas = document.createElement('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', opts.title);
  const tip = document.createElement('div');
  tip.className = 'tooltip';
  tip.hidden = true;
  const band = document.createElement('div');
  band.className = 'zoom-band';
  band.hidden = true;
  wrap.append(canvas, band, tip);
  const legend = document.createElement('div');
  legend.className = 'legend';
  fig.append(head, wrap, legend);
  parent.append(fig);

  const height = opts.height || 220;
  let data = { series: [] };
  const hidden = new Set(); // legend entries switched off
  let view = null; // [x0, x1] when zoomed
  let frame = null; // the scales of the last drawing, for hover lookups

  function visible() {
    return data.series.filter((s) => !hidden.has(s.legend || s.name));
  }

  function draw() {
    const width = Math.max(wrap.clientWidth || 320, 160);
    paint(canvas, width, height, window.devicePixelRatio || 1);
  }

  // paint draws the plot h tall (header included) on target, with room for `below` more.
  function paint(target, width, h, scale, header, below = 0) {
    target.width = Math.round(width * scale);
    target.height = Math.round((h + below) * scale);
    if (target === canvas) {
      canvas.style.width = width + 'px';
      canvas.style.height = h + 'px';
    }
    const ctx = target.getContext('2d');
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.fillStyle = '#fff'; // an opaque background, so the exported PNG is not transparent
    ctx.fillRect(0, 0, width, h + below);
    const f = render(ctx, width, h, opts, { ...data, series: visible(), xDomain: view || data.xDomain }, header || 0);
    if (target === canvas) frame = f;
    return ctx;
  }

  let legendKey = '';
  function renderLegend() {
    const entries = [];
    for (const s of data.series) {
      const key = s.legend || s.name;
      if (!key || entries.some((e) => e.key === key)) continue;
      entries.push({ key, color: s.color, dash: s.dash || [] });
    }
    // A live run redraws often: rebuild the legend only when its entries change.
    const sig = JSON.stringify(entries);
    if (sig === legendKey) return;
    legendKey = sig;
    legend.replaceChildren(...entries.map((e) => {
      const b = button('', `Show or hide ${e.key}`);
      b.className = 'entry';
      b.setAttribute('aria-pressed', String(!hidden.has(e.key)));
      b.dataset.key = e.key;
      const sw = document.createElement('canvas');
      sw.width = 28; sw.height = 10;
      sw.className = 'swatch';
      const c = sw.getContext('2d');
      c.strokeStyle = e.color; c.lineWidth = 2.5; c.setLineDash(e.dash);
      c.beginPath(); c.moveTo(0, 5); c.lineTo(28, 5); c.stroke();
      b.append(sw, document.createTextNode(e.key));
      b.addEventListener('click', () => {
        if (hidden.has(e.key)) hidden.delete(e.key); else hidden.add(e.key);
        b.setAttribute('aria-pressed', String(!hidden.has(e.key)));
        fig.dataset.series = String(visible().length);
        draw();
      });
      return b;
    }));
  }

  function setData(d) {
    data = d;
    fig.dataset.points = String(d.series.reduce((n, s) => n + (s.points ? s.points.length : s.bins.length), 0));
    fig.dataset.series = String(visible().length);
    renderLegend();
    draw();
  }

  function zoomTo(x0, x1) {
    if (!(x1 > x0)) return;
    view = [x0, x1];
    reset.hidden = false;
    fig.dataset.zoomed = 'true';
    draw();
  }
  function unzoom() {
    view = null;
    reset.hidden = true;
    delete fig.dataset.zoomed;
    draw();
  }
  reset.addEventListener('click', unzoom);
  canvas.addEventListener('dblclick', unzoom);
  // The keyboard does what the mouse does: + and - zoom around the middle, the arrows pan,
  // Escape or 0 resets.
  if (opts.kind !== 'hist') {
    canvas.tabIndex = 0;
    canvas.setAttribute('aria-label', `${opts.title}: plot; + and - zoom, arrow keys pan, Escape resets`);
    canvas.addEventListener('keydown', (ev) => {
      if (!frame) return;
      const [a, b] = frame.xDomain, mid = (a + b) / 2, span = b - a;
      const actions = {
        '+': () => zoomTo(mid - span * 0.35, mid + span * 0.35), '=': () => zoomTo(mid - span * 0.35, mid + span * 0.35),
        '-': () => zoomTo(mid - span * 0.7, mid + span * 0.7),
        ArrowLeft: () => zoomTo(a - span * 0.2, b - span * 0.2), ArrowRight: () => zoomTo(a + span * 0.2, b + span * 0.2),
        Escape: unzoom, 0: unzoom,
      };
      if (actions[ev.key]) { ev.preventDefault(); actions[ev.key](); }
    });
  }

  // Drag: select an x range to zoom into; with Shift, pan the zoomed view.
  let drag = null;
  canvas.addEventListener('pointerdown', (ev) => {
    if (!frame || opts.kind === 'hist' || ev.button !== 0) return;
    canvas.setPointerCapture(ev.pointerId);
    drag = { x: ev.offsetX, pan: ev.shiftKey, dom: frame.xDomain };
  });
  canvas.addEventListener('pointermove', (ev) => {
    if (!drag) return hover(ev);
    if (drag.pan) {
      const dx = frame.ix(ev.offsetX) - frame.ix(drag.x);
      view = [drag.dom[0] - dx, drag.dom[1] - dx];
      reset.hidden = false;
      fig.dataset.zoomed = 'true';
      draw();
      return;
    }
    band.hidden = false;
    band.style.left = Math.min(drag.x, ev.offsetX) + 'px';
    band.style.width = Math.abs(ev.offsetX - drag.x) + 'px';
    band.style.top = margin.top + 'px';
    band.style.height = (height - margin.top - margin.bottom) + 'px';
  });
  canvas.addEventListener('pointerup', (ev) => {
    if (!drag) return;
    band.hidden = true;
    if (!drag.pan && Math.abs(ev.offsetX - drag.x) > 4) {
      const a = frame.ix(Math.min(drag.x, ev.offsetX)), b = frame.ix(Math.max(drag.x, ev.offsetX));
      zoomTo(a, b);
    }
    drag = null;
  });
  canvas.addEventListener('wheel', (ev) => {
    if (!frame || !ev.ctrlKey || opts.kind === 'hist') return; // a plain wheel scrolls the page
    ev.preventDefault();
    const [a, b] = frame.xDomain, at = frame.ix(ev.offsetX), k = ev.deltaY > 0 ? 1.25 : 0.8;
    zoomTo(at - (at - a) * k, at + (b - at) * k);
  }, { passive: false });

  function hover(ev) {
    if (!frame) return;
    const hit = nearest(frame, visible(), ev.offsetX, ev.offsetY, opts.kind);
    if (!hit) { tip.hidden = true; return; }
    tip.textContent = hit.text;
    tip.hidden = false;
    const left = Math.min(hit.px + 12, canvas.clientWidth - tip.offsetWidth - 4);
    tip.style.left = Math.max(left, 0) + 'px';
    tip.style.top = Math.max(hit.py - 30, 0) + 'px';
  }
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });

  // The export: twice the size on screen, a header with the title and the run names, and
  // the legend drawn below the plot (the on-screen legend is HTML).
  fig.exportCanvas = () => {
    const width = Math.max(wrap.clientWidth || 320, 320);
    const out = document.createElement('canvas');
    const keys = [...legend.querySelectorAll('button.entry[aria-pressed="true"]')].map((e) => e.dataset.key);
    // Lay the legend out first (entries wrap to the width), to know the image's height.
    const measure = document.createElement('canvas').getContext('2d');
    measure.font = '11px system-ui, sans-serif';
    const placed = [];
    let x = 8, row = 0;
    for (const key of keys) {
      const w = Math.min(24 + measure.measureText(key).width + 14, width - 16);
      if (x + w > width - 8 && x > 8) { x = 8; row++; }
      placed.push({ key, x, row });
      x += w;
    }
    const header = 34, legendH = keys.length ? (row + 1) * 18 + 8 : 0;
    const ctx = paint(out, width, height + header, 2, header, legendH);
    ctx.fillStyle = '#111';
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.fillText(opts.title, 8, 4, width - 16);
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#555';
    ctx.fillText(opts.subtitle || '', 8, 20, width - 16);
    for (const p of placed) {
      const s = data.series.find((t) => (t.legend || t.name) === p.key);
      const y = header + height + 4 + p.row * 18;
      ctx.strokeStyle = s.color; ctx.lineWidth = 2.5; ctx.setLineDash(s.dash || []);
      ctx.beginPath(); ctx.moveTo(p.x, y + 7); ctx.lineTo(p.x + 20, y + 7); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#333';
      ctx.fillText(p.key, p.x + 24, y + 1, width - p.x - 32);
    }
    return out;
  };
  png.addEventListener('click', () => {
    fig.exportCanvas().toBlob((blob) => {
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
  // For tests and for a user's console: what is drawn, and where a point is on the page.
  fig.drawn = () => visible().map((s) => ({ name: s.name, legend: s.legend || s.name, role: s.role || '', run: s.run || '', key: s.key || '', points: s.points || [] }));
  fig.pixelOf = (si, pi) => {
    const [x, y] = visible()[si].points[pi];
    const rect = canvas.getBoundingClientRect();
    return { x: rect.left + frame.sx(x), y: rect.top + frame.sy(y) };
  };
  fig.zoomTo = zoomTo;
  fig.view = () => (frame ? frame.xDomain : null);
  return { setData, element: fig, canvas };
}

function button(text, title) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.title = title;
  return b;
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

// ticks are round values in [lo, hi], about n of them; whole numbers only when integer.
export function ticks(lo, hi, n, integer) {
  const step0 = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  if (integer) step = Math.max(1, Math.round(step));
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

// tickFmt writes a tick label short: "4e-4", not "4.00e-4".
function tickFmt(v) {
  return fmt(v).replace(/\.?0+e/, 'e');
}

function render(ctx, width, height, opts, data, top) {
  const logY = !!data.logY && opts.kind !== 'hist';
  const ty = (y) => (logY ? (y > 0 ? Math.log10(y) : NaN) : y);
  const xs = [], ys = [];
  const [vx0, vx1] = data.xDomain || [-Infinity, Infinity];
  for (const s of data.series) {
    if (s.points) for (const [x, y] of s.points) { xs.push(x); if (x >= vx0 && x <= vx1) ys.push(ty(y)); }
    if (s.bins) for (const b of s.bins) { xs.push(b.x0, b.x1); ys.push(0, b.count); }
  }
  const [x0, x1] = data.xDomain || extent(xs);
  let [y0, y1] = data.yDomain || extent(ys);
  if (opts.kind === 'hist') y0 = 0;
  const m = { ...margin, top: margin.top + top };
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const sx = (x) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const ix = (px) => x0 + ((px - m.left) / pw) * (x1 - x0);
  const syT = (v) => m.top + ph - ((v - y0) / (y1 - y0)) * ph;
  const sy = (y) => syT(ty(y));

  ctx.font = '11px system-ui, sans-serif';
  ctx.strokeStyle = '#e3e3e3';
  ctx.fillStyle = '#555';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const yt = logY ? ticks(Math.floor(y0), Math.ceil(y1), 4, true).filter((t) => t >= y0 && t <= y1) : ticks(y0, y1, 4);
  for (const t of yt) {
    ctx.beginPath(); ctx.moveTo(m.left, syT(t)); ctx.lineTo(m.left + pw, syT(t)); ctx.stroke();
    ctx.fillText(tickFmt(logY ? Math.pow(10, t) : t), m.left - 4, syT(t));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of ticks(x0, x1, Math.max(2, Math.floor(pw / 70)), opts.integerX)) {
    ctx.beginPath(); ctx.moveTo(sx(t), m.top); ctx.lineTo(sx(t), m.top + ph); ctx.stroke();
    ctx.fillText(tickFmt(t), sx(t), m.top + ph + 3);
  }
  ctx.strokeStyle = '#888';
  ctx.strokeRect(m.left, m.top, pw, ph);
  if (opts.xLabel) ctx.fillText(opts.xLabel, m.left + pw / 2, m.top + ph + 18);
  if (opts.yLabel) {
    ctx.save(); ctx.translate(12, m.top + ph / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(opts.yLabel + (logY ? ' (log)' : ''), 0, -6); ctx.restore();
  }

  ctx.save();
  ctx.beginPath(); ctx.rect(m.left, m.top, pw, ph); ctx.clip();
  data.series.forEach((s, si) => {
    ctx.strokeStyle = ctx.fillStyle = s.color;
    if (s.bins) {
      // Bars of several series share bins: each takes its own slice of the bin's width,
      // so series that land in the same bin (fixed and uniform weights) stay apart.
      const n = data.series.filter((t) => t.bins).length;
      for (const b of s.bins) {
        const w = Math.max((sx(b.x1) - sx(b.x0)) / n, 1);
        const x = sx(b.x0) + w * si;
        ctx.globalAlpha = 0.45;
        ctx.fillRect(x, sy(b.count), w, sy(0) - sy(b.count));
        ctx.globalAlpha = 1;
        ctx.fillRect(x, sy(b.count), w, 1.5);
      }
    } else if (opts.kind === 'scatter') {
      s.points.forEach(([x, y], i) => {
        // Colour by position along the run when asked, so the path of the weights shows.
        if (s.gradient) ctx.fillStyle = stepColor(i / Math.max(s.points.length - 1, 1));
        ctx.beginPath(); ctx.arc(sx(x), sy(y), 2.5, 0, 2 * Math.PI); ctx.fill();
      });
    } else {
      ctx.lineWidth = s.faint ? 1 : 1.8;
      ctx.globalAlpha = s.faint ? 0.28 : 1;
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let on = false;
      for (const [x, y] of s.points) {
        const py = sy(y);
        if (!Number.isFinite(py)) { on = false; continue; }
        if (on) ctx.lineTo(sx(x), py); else ctx.moveTo(sx(x), py);
        on = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
      if (s.markers) {
        for (const [x, y] of s.points) {
          if (!Number.isFinite(sy(y))) continue;
          ctx.beginPath(); ctx.arc(sx(x), sy(y), 3.2, 0, 2 * Math.PI); ctx.fill();
        }
      }
      ctx.globalAlpha = 1;
    }
  });
  ctx.restore();
  if (logY) {
    // Values at or below 0 have no place on a log scale: say how many are not drawn.
    let hidden = 0;
    for (const s of data.series) if (s.points && !s.faint) for (const [, y] of s.points) if (!(y > 0)) hidden++;
    if (hidden) {
      ctx.fillStyle = '#b00020';
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      ctx.fillText(`${hidden} value(s) ≤ 0 not drawn (log scale)`, m.left + 4, m.top + 3);
    }
  }
  return { sx, sy, ix, pw, ph, xDomain: [x0, x1] };
}

function stepColor(t) {
  return `hsl(${Math.round(240 - 240 * t)}, 70%, 45%)`;
}

// nearest finds the data point (or histogram bin) under the mouse.
function nearest(frame, series, mx, my, kind) {
  let best = null, bestD = 18 * 18;
  for (const s of series) {
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
    if (s.faint) continue; // the smoothed line answers for its raw values
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
