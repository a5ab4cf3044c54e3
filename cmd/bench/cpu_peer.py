# Runs the engine's AMoPO step (cmd/bench), the same step in PyTorch CPU eager
# (torch_cpu_step.py, 2 threads), OpenBLAS sgemm (cpeer/sgemm.c, 2 threads) and the engine's own
# f32 matmul, interleaved, --repeat times; prints the tables and writes them as the
# "CPU step vs PyTorch and OpenBLAS" section of --out. Called by cpu_peer.sh.
import argparse, datetime, json, os, re, subprocess, sys, tempfile

p = argparse.ArgumentParser()
p.add_argument("--bench", required=True)
p.add_argument("--sgemm", required=True)
p.add_argument("--repeat", type=int, default=2)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--out", default="docs/benchmarks.md")
a = p.parse_args()
HERE = os.path.dirname(os.path.abspath(__file__))
PRESETS = [("tiny", 259, 1024), ("small", 8192, 2048)]  # preset, vocabulary, engine matmul size
THREADS = {"OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "GOMAXPROCS": "2"}


def run(cmd):
    env = dict(os.environ, **THREADS)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"cpu_peer: {' '.join(cmd)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def engine(preset, vocab, matmul_n, fast=True, blas=0.0, steps=a.steps):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        run([a.bench, "--preset", preset, "--vocab", str(vocab), "--steps", str(steps), "--peak-n", str(matmul_n),
             "--fast-gemm=" + str(fast).lower(), "--blas-gflops", str(blas), "--json", f.name])
        return json.load(open(f.name))


def torch_step(preset, vocab):
    out = run(["/usr/bin/python3", os.path.join(HERE, "torch_cpu_step.py"), "--preset", preset, "--vocab", str(vocab),
               "--threads", "2", "--steps", str(a.steps)])
    return json.loads(out.strip().splitlines()[-1])


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
lines = [f"Measured {datetime.date.today()} by `sudo bash cmd/bench/cpu_peer.sh` on {cpu} ({os.cpu_count()} CPUs), "
         "all in one run, every peer on 2 threads; B = 2 pairs x 2K = 8 sequences x 64 tokens. The machine is shared "
         "with other jobs (load: the 1-minute load average when the row started; 2 means the cores were full), so compare within a row. Engine: the pure-Go backend with engine/cpu's GEMM; "
         "\"GoMLX DotGeneral\" is the same engine with `--fast-gemm=false`.", ""]
step_rows, mm_rows = [], []
for rep in range(1, a.repeat + 1):
    blas = {}
    for l in run([a.sgemm, "1024", "2048"]).strip().splitlines():
        r = json.loads(l)
        blas[r["n"]] = r["gflops"]
        blas_config = r["config"]
    blas_rate = max(blas.values())
    for preset, vocab, n in PRESETS:
        load = open("/proc/loadavg").read().split()[0]
        e = engine(preset, vocab, n, blas=blas_rate)
        t = torch_step(preset, vocab)
        slow = engine(preset, vocab, 0, fast=False, steps=2)
        if abs(t["params"] - e["Params"]) > 0.001 * e["Params"]:
            sys.exit(f"cpu_peer: the PyTorch model has {t['params']} parameters, the engine's {e['Params']}")
        step_rows.append(f"| {rep} | {load} | {preset} ({e['Params'] / 1e6:.2f}M, vocab {vocab}) | {e['StepSeconds']:.3f} s | "
                         f"{t['step_s']:.3f} s | **{e['TokensPerSecond'] / t['tokens_per_s']:.2f}x** | "
                         f"{e['StepGFLOPS']:.1f} | {100 * e['StepGFLOPS'] / blas_rate:.1f}% | "
                         f"{100 * e['StepGFLOPS'] / e['PeakGFLOPS']:.1f}% | {slow['StepSeconds']:.2f} s "
                         f"({slow['StepSeconds'] / e['StepSeconds']:.1f}x) |")
        mm_rows.append(f"| {rep} | {load} | {n}^3 | {e['MatmulGFLOPS']:.1f} | {blas[n]:.1f} | **{100 * e['MatmulGFLOPS'] / blas[n]:.0f}%** | "
                       f"{100 * e['MatmulGFLOPS'] / e['PeakGFLOPS']:.0f}% |")
        print(step_rows[-1], flush=True)
        print(mm_rows[-1], flush=True)
lines += ["| run | load | preset | engine step | PyTorch 1.13 eager step | engine / PyTorch tokens/s | engine step GFLOP/s | "
          "of OpenBLAS sgemm | MFU (machine peak) | GoMLX DotGeneral step (engine's speedup) |",
          "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"] + step_rows
lines += ["", "| run | load | f32 matmul | engine GFLOP/s (graph on the `go` backend) | OpenBLAS sgemm GFLOP/s | engine / OpenBLAS | "
          "engine / machine peak |", "| --- | --- | --- | ---: | ---: | ---: | ---: |"] + mm_rows
lines += ["", f"Machine peak: {e['PeakAgainst']} = {e['PeakGFLOPS']:.0f} GFLOP/s; micro-kernel: {e['Kernel']}. "
          f"OpenBLAS: {blas_config}; PyTorch {t['torch']} ({t['threads']} threads). \"Of OpenBLAS sgemm\" divides the "
          "step's effective GFLOP/s (6N per token + attention) by the better of the two sgemm rates of the same run."]
section = "## CPU step vs PyTorch and OpenBLAS\n\n" + "\n".join(lines) + "\n"
print(section)
text = open(a.out).read() if os.path.exists(a.out) else "# Benchmarks\n"
pattern = re.compile(r"## CPU step vs PyTorch and OpenBLAS\n.*?(?=^## |\Z)", re.S | re.M)
if pattern.search(text):
    text = pattern.sub(lambda _: section + "\n", text, count=1)
else:
    marker = "\n## The default run"
    i = text.find(marker)
    text = text[:i + 1] + section + "\n" + text[i + 1:] if i >= 0 else text.rstrip("\n") + "\n\n" + section
open(a.out, "w").write(text)
