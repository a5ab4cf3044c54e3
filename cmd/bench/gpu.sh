#!/usr/bin/env bash
# The GPU benchmark: one AMoPO step of the Qwen2.5-0.5B shape (random init, bf16, K = 4,
# sequence 512) with the engine on XLA/PJRT and with PyTorch + transformers, on the same
# card in the same run. Build the engine here first (the GPU machine has no Go):
#
#   go build -o bin/bench ./cmd/bench && (carry bin/) && bash cmd/bench/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SITE=$(python3 -c 'import site; print(site.getsitepackages()[0])')
PLUGIN="$SITE/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
export LD_LIBRARY_PATH="$(ls -d "$SITE"/nvidia/*/lib | tr '\n' ':')${LD_LIBRARY_PATH:-}"
CUDA_DIR=$(dirname "$(dirname "$(find "$SITE/nvidia" /usr/local/cuda -name libdevice.10.bc 2>/dev/null | head -1)")")
export XLA_FLAGS="--xla_gpu_cuda_data_dir=${CUDA_DIR:-/usr/local/cuda}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
echo "== engine (GoMLX XLA/PJRT)"
( while sleep 0.5; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; done ) > /tmp/mem.log &
MON=$!
./bin/bench --backend "xla:$PLUGIN" --preset qwen2.5-0.5b --dtype bf16 --pairs 1 --k 4 --seq 512 --steps 10 \
	--peak-n 4096 --peak-tflops 989 --out "${OUT:-/tmp}/benchmarks-gpu.md"
kill $MON; echo "engine peak memory used (nvidia-smi): $(sort -n /tmp/mem.log | tail -1) MiB"
echo "== PyTorch + transformers"
python3 cmd/bench/torch_step.py --pairs 1 --k 4 --seq 512 --steps 10
