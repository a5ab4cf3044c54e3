// What a metrics JSONL says, without drawing it: rows parsed with their errors, the
// scalars grouped into charts (per-dimension scalars share one), smoothing, tokens as an
// x axis, and the judge scores with their intervals. inspect.js draws it.

// parseJSONL returns the usable rows and a "line N: reason" for each skipped line.
// A row is a JSON object with a numeric "step"; cmd/train adds its "stage" as a string.
export function parseJSONL(text, firstLine = 1) {
  const rows = [], errors = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const where = `line ${i + firstLine}`;
    let obj;
    try {
      obj = JSON.parse(line);
    } catch (err) {
      errors.push(`${where}: not valid JSON (${err.message}): ${quote(line)}`);
      return;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      errors.push(`${where}: not a JSON object: ${quote(line)}`);
      return;
    }
    if (typeof obj.step !== 'number' || !Number.isFinite(obj.step)) {
      errors.push(`${where}: no numeric "step": ${quote(line)}`);
      return;
    }
    const bad = Object.entries(obj).find(([k, v]) => typeof v !== 'number' && v !== null &&
      !(k === 'stage' && typeof v === 'string'));
    if (bad) {
      errors.push(`${where}: "${bad[0]}" is not a number (it is ${JSON.stringify(bad[1]).slice(0, 60)})`);
      return;
    }
    rows.push(obj);
  });
  return { rows, errors };
}

// quote shows what was read, cut to a readable length.
export function quote(text) {
  const s = String(text);
  return s.length > 60 ? `"${s.slice(0, 57)}…"` : `"${s}"`;
}

const judgeSuffix = '_judge';

// stageOf names a row's stage: cmd/train's "sft", "preference", "after SFT_judge"...;
// a file without stages (cmd/amopo-demo) is one "training" stage.
export function stageOf(row) {
  return typeof row.stage === 'string' ? row.stage : 'training';
}

export function isJudgeStage(stage) {
  return stage.endsWith(judgeSuffix);
}

export function judgeLabel(stage) {
  return stage.slice(0, -judgeSuffix.length);
}

// dimensionsOf lists the preference dimensions a run names: those with a weight
// (weights/<d>_alpha) or a judge score (judge/<d>), the usual four first.
const usual = ['general', 'helpfulness', 'correctness', 'instruction_following'];
export function dimensionsOf(rows) {
  const dims = [];
  for (const r of rows) {
    for (const key of Object.keys(r)) {
      const m = /^weights\/(.+)_alpha$/.exec(key) || /^judge\/(.+)$/.exec(key);
      if (m && !dims.includes(m[1])) dims.push(m[1]);
    }
  }
  const rank = (d) => (usual.includes(d) ? usual.indexOf(d) : usual.length);
  return dims.sort((a, b) => rank(a) - rank(b));
}

// isEval: the held-out evaluation's scalars, drawn over the training curve of the same name.
export const evalPrefix = 'eval_';

// groupScalars turns the scalar names of the training rows into charts: a name that
// contains a dimension ("weights/general_alpha", "rewards/helpfulness_margins") joins the
// chart of its pattern ("weights/{dim}_alpha"), one series per dimension; any other name
// is a chart of its own. New names need no code here.
export function groupScalars(rows, dims) {
  const groups = new Map();
  const skip = new Set(['step', 'stage']);
  // Longest names first, so "instruction_following" is not read as a dimension "following".
  const byLength = [...dims].sort((a, b) => b.length - a.length);
  for (const r of rows) {
    if (isJudgeStage(stageOf(r))) continue;
    for (const [key, v] of Object.entries(r)) {
      if (skip.has(key) || typeof v !== 'number') continue;
      const name = key.startsWith(evalPrefix) ? key.slice(evalPrefix.length) : key;
      let id = name, dim = null;
      for (const d of byLength) {
        const at = name.indexOf(d);
        const before = at > 0 ? name[at - 1] : '/';
        const after = name[at + d.length];
        if (at >= 0 && (before === '/' || before === '_') && (after === '_' || after === undefined)) {
          id = name.slice(0, at) + '{dim}' + name.slice(at + d.length);
          dim = d;
          break;
        }
      }
      if (!groups.has(id)) groups.set(id, { id, perDim: dim !== null, keys: new Map() });
      const g = groups.get(id);
      const member = dim || name;
      if (!g.keys.has(member)) g.keys.set(member, name);
    }
  }
  return [...groups.values()];
}

// groupTitle writes a chart's name in words: "weights/{dim}_alpha" is "alpha per dimension".
export function groupTitle(id) {
  const m = /^(?:([^/]*)\/)?\{dim\}_?(.*)$/.exec(id);
  if (m) {
    const what = m[2] || m[1];
    return `${what}${m[1] && m[2] && m[1] !== 'weights' ? ` (${m[1]})` : ''} per dimension`;
  }
  return id;
}

// ema smooths values as TensorBoard does: an exponential moving average with weight w,
// debiased at the start (so the first value is not pulled towards 0).
export function ema(values, w) {
  if (!(w > 0)) return values.slice();
  let last = 0, n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    n++;
    return last / (1 - Math.pow(w, n));
  });
}

// tokenAxis maps each step of a stage to the tokens trained so far: cmd/train logs the
// running "num_tokens" every log_every steps; steps between are interpolated linearly
// (from 0 tokens at step 0). Returns null when the stage logs no token counts.
export function tokenAxis(rows) {
  const known = [[0, 0]];
  for (const r of rows) {
    if (typeof r.num_tokens === 'number') known.push([r.step, r.num_tokens]);
  }
  if (known.length < 2) return null;
  known.sort((a, b) => a[0] - b[0]);
  return (step) => {
    let i = 1;
    while (i < known.length - 1 && known[i][0] < step) i++;
    const [s0, t0] = known[i - 1], [s1, t1] = known[i];
    return s1 === s0 ? t1 : t0 + ((t1 - t0) * (step - s0)) / (s1 - s0);
  };
}

// meanSE is the mean of xs and its standard error (sample standard deviation / sqrt(n)).
export function meanSE(xs) {
  const n = xs.length;
  if (n < 2) return { mean: n ? xs[0] : NaN, se: NaN, n };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n), n };
}

// answersName is the file cmd/train writes a judge evaluation's per-item scores to.
export function answersName(judgeStage) {
  return 'answers-' + judgeLabel(judgeStage).replaceAll(' ', '-') + '.jsonl';
}

// parseAnswers reads the per-item "scores" of an answers-*.jsonl file.
export function parseAnswers(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const obj = JSON.parse(line);
    if (obj && obj.scores && typeof obj.scores === 'object') out.push(obj.scores);
  }
  return out;
}
