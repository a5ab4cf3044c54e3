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
p.add_argument("--threads", default="2,1", help="thread counts to compare at (1: one core each, which a loaded machine disturbs least)")
a = p.parse_args()
HERE = os.path.dirname(os.path.abspath(__file__))
PRESETS = [("tiny", 259, 1024), ("small", 8192, 2048)]  # preset, vocabulary, engine matmul size
THREADS = [int(x) for x in a.threads.split(",")]
threads = THREADS[0]  # the thread count of the current measurements


def run(cmd, **extra):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), GOMAXPROCS=str(threads), **extra)
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
               "--threads", str(threads), "--steps", str(a.steps)],
              # PyTorch's OpenMP threads spin while they wait; on a shared machine that makes its
              # 2-thread step several times slower (measured: tiny 1.19 s spinning, 0.20 s passive).
              OMP_WAIT_POLICY="PASSIVE")
    return json.loads(out.strip().splitlines()[-1])


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
lines = ["The pure-Go backend runs with `engine/cpu` imported: its packed GEMM (Go-assembly AVX-512/AVX2 FMA "
         "micro-kernels, every core) is simplego's DotGeneral, and its float32 element-wise, reduce, broadcast, transpose, "
         "exp and logistic executors replace simplego's (see the package doc). The peers: the same step in PyTorch CPU "
         "eager (`cmd/bench/torch_cpu_step.py`: a Qwen2 in plain torch with the preset's shapes and parameter count, the "
         "AMoPO loss of `torch_step.py`) and OpenBLAS sgemm (`cmd/bench/cpeer/sgemm.c`). Regenerate with "
         "`sudo bash cmd/bench/cpu_peer.sh` (installs python3-torch and libopenblas-dev if missing).", "",
         f"Measured {datetime.date.today()} by `sudo bash cmd/bench/cpu_peer.sh` on {cpu} ({os.cpu_count()} CPUs), "
         "all in one run, every peer on the same number of threads (GOMAXPROCS, torch.set_num_threads, OPENBLAS_NUM_THREADS; PyTorch with OMP_WAIT_POLICY=PASSIVE, its faster setting on a shared machine); B = 2 pairs x 2K = 8 sequences x 64 tokens. The machine is shared "
         "with other jobs (load: the 1-minute load average when the row started; 2 means the cores were full), so compare within a row. Engine: the pure-Go backend with engine/cpu; "
         "\"GoMLX executors\" is the same binary with `--fast-gemm=false` (GoMLX v0.26's own DotGeneral and element-wise executors).", ""]
step_rows, mm_rows = [], []
targets = []  # (run, text, met)
for rep, threads in [(r, th) for r in range(1, a.repeat + 1) for th in THREADS]:
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
        slow = engine(preset, vocab, 0, fast=False, steps=2) if threads == THREADS[0] else None
        if abs(t["params"] - e["Params"]) > 0.001 * e["Params"]:
            sys.exit(f"cpu_peer: the PyTorch model has {t['params']} parameters, the engine's {e['Params']}")
        step_rows.append(f"| {rep} | {threads} | {load} | {preset} ({e['Params'] / 1e6:.2f}M, vocab {vocab}) | {e['StepSeconds']:.3f} s | "
                         f"{t['step_s']:.3f} s | **{e['TokensPerSecond'] / t['tokens_per_s']:.2f}x** | "
                         f"{e['StepGFLOPS']:.1f} | {100 * e['StepGFLOPS'] / blas_rate:.1f}% | "
                         f"{100 * e['StepGFLOPS'] / e['PeakGFLOPS']:.1f}% | " +
                         (f"{slow['StepSeconds']:.2f} s ({slow['StepSeconds'] / e['StepSeconds']:.1f}x) |" if slow else "- |"))
        mm_rows.append(f"| {rep} | {threads} | {load} | {n}^3 | {e['MatmulGFLOPS']:.1f} | {blas[n]:.1f} | **{100 * e['MatmulGFLOPS'] / blas[n]:.0f}%** | "
                       f"{100 * e['MatmulGFLOPS'] / e['PeakGFLOPS']:.0f}% |")
        ratio = e["TokensPerSecond"] / t["tokens_per_s"]
        if preset == "small":
            targets.append((f"{rep}/{threads}t", f"small step {ratio:.2f}x PyTorch's tokens/s (target >= 1.5x)", ratio >= 1.5))
            share = e["StepGFLOPS"] / blas_rate
            targets.append((f"{rep}/{threads}t", f"small step at {100 * share:.0f}% of OpenBLAS sgemm (target >= 25%)", share >= 0.25))
        else:
            targets.append((f"{rep}/{threads}t", f"tiny step {ratio:.2f}x PyTorch's tokens/s (target >= 1x)", ratio >= 1))
            mm = e["MatmulGFLOPS"] / blas[n]
            targets.append((f"{rep}/{threads}t", f"engine matmul 1024^3 at {100 * mm:.0f}% of OpenBLAS (target >= 60%)", mm >= 0.6))
        print(step_rows[-1], flush=True)
        print(mm_rows[-1], flush=True)
lines += ["| run | threads | load | preset | engine step | PyTorch 1.13 eager step | engine / PyTorch tokens/s | engine step GFLOP/s | "
          "of OpenBLAS sgemm | MFU (machine peak) | GoMLX executors step (engine's speedup) |",
          "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"] + step_rows
lines += ["", "| run | threads | load | f32 matmul | engine GFLOP/s (graph on the `go` backend) | OpenBLAS sgemm GFLOP/s | engine / OpenBLAS | "
          "engine / machine peak (all cores) |", "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |"] + mm_rows
lines += ["", f"Machine peak: {e['PeakAgainst']} = {e['PeakGFLOPS']:.0f} GFLOP/s; micro-kernel: {e['Kernel']}. "
          f"OpenBLAS: {blas_config}; PyTorch {t['torch']}. The MFU column divides by the peak of all cores also in one-thread rows. \"Of OpenBLAS sgemm\" divides the "
          "step's effective GFLOP/s (6N per token + attention) by the better of the two sgemm rates of the same run."]
lines += ["", "Targets of issue 13, per run: " + "; ".join(
    f"run {r} (threads): {text} {'met' if met else 'NOT met'}" for r, text, met in targets) + "."]
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
