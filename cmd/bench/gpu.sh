#!/usr/bin/env bash
# The GPU checks, in one call on the GPU machine (it has no Go: build here first):
#
#   bash cmd/bench/gpu.sh prepare        # here: bin/bench (cgo, XLA built in) and bin/export-run
#   bash cmd/bench/gpu.sh                # there, with bin/ carried; logs under $OUT
#
# 1. The default run's export (out/run, copied by prepare) loads in transformers with its
#    tokenizer and reproduces the engine's greedy answers (cmd/train/check_export.py).
# 2. One AMoPO step of the Qwen2.5-0.5B shape (random init, bf16, K = 4, sequence 512) with
#    the engine on XLA/PJRT and with PyTorch + transformers (cmd/bench/torch_step.py), on the
#    same card in the same call: tokens/s, MFU, XLA compile time, and peak memory read the
#    same way for both (nvidia-smi, every 0.2 s; the XLA client allocates on demand here,
#    not 75% of the card up front).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = prepare ]; then
	mkdir -p bin
	go build -trimpath -ldflags="-s -w" -o bin/bench ./cmd/bench
	if [ -d out/run/model ]; then
		rm -rf bin/export-run && mkdir -p bin/export-run
		cp -r out/run/model out/run/answers-after-*.jsonl bin/export-run/
	else
		echo "no out/run/model: run 'go run ./cmd/train' first to include the export check" >&2
	fi
	du -sh bin
	exit 0
fi

OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu.log") 2>&1
SITE=$(python3 -c 'import site; print(site.getsitepackages()[0])')
PLUGIN="$SITE/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
export LD_LIBRARY_PATH="$(ls -d "$SITE"/nvidia/*/lib | tr '\n' ':')${LD_LIBRARY_PATH:-}"
# XLA wants the folder that holds nvvm/libdevice/libdevice.10.bc.
LIBDEVICE=$(find "$SITE/nvidia" /usr/local/cuda -name libdevice.10.bc 2>/dev/null | head -1 || true)
CUDA_DIR=/usr/local/cuda
[ -n "$LIBDEVICE" ] && CUDA_DIR=$(dirname "$(dirname "$(dirname "$LIBDEVICE")")")
export XLA_FLAGS="--xla_gpu_cuda_data_dir=$CUDA_DIR"
echo "plugin $PLUGIN; XLA_FLAGS=$XLA_FLAGS"
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

# peak_mem NAME CMD...: runs CMD while sampling the card's used memory; prints the peak
# above what was in use before it started.
peak_mem() {
	local name=$1 base log=/tmp/mem-$1.log
	shift
	base=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
	(while sleep 0.2; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1; done) >"$log" &
	local mon=$! rc=0
	"$@" || rc=$?
	kill $mon 2>/dev/null || true
	local peak
	peak=$(sort -n "$log" | tail -1)
	echo "$name: peak GPU memory used (nvidia-smi, above the idle $base MiB): $((${peak:-$base} - base)) MiB"
	return $rc
}

if [ -d bin/export-run ]; then
	echo "== export check (transformers)"
	python3 cmd/train/check_export.py bin/export-run | tee "$OUT/export-check.json" || echo "export check FAILED"
fi
echo "== engine (GoMLX on XLA/PJRT)"
peak_mem engine ./bin/bench --backend "xla:$PLUGIN" --preset qwen2.5-0.5b --dtype bf16 --pairs 1 --k 4 --seq 512 \
	--steps 10 --peak-n 8192 --peak-tflops 989 --out "$OUT/benchmarks-gpu.md" || echo "engine FAILED"
echo "== PyTorch + transformers (eager)"
peak_mem pytorch python3 cmd/bench/torch_step.py --pairs 1 --k 4 --seq 512 --steps 10 || echo "pytorch FAILED"
