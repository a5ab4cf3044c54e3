#!/usr/bin/env bash
# The engine's CPU step against its peers, in one run on one machine (see cpu_peer.py):
#
#   sudo bash cmd/bench/cpu_peer.sh [--repeat 2] [--out docs/benchmarks.md]
#
# Installs the peers where missing (Debian python3-torch and libopenblas-dev, as root),
# builds cmd/bench and the OpenBLAS sgemm timer, then runs cpu_peer.py, which measures and
# writes the "CPU step vs PyTorch and OpenBLAS" section.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
dpkg -s python3-torch >/dev/null 2>&1 || need+=(python3-torch)
dpkg -s libopenblas-dev >/dev/null 2>&1 || need+=(libopenblas-dev)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "cpu_peer.sh: ${need[*]} missing; run as root to apt-get install them" >&2
		exit 1
	fi
	apt-get install -y --no-install-recommends "${need[@]}"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/sgemm" cmd/bench/cpeer/sgemm.c -lopenblas
go build -o "$work/bench" ./cmd/bench
# Debian's python3-torch is for the system interpreter, not a pyenv or venv one.
/usr/bin/python3 cmd/bench/cpu_peer.py --bench "$work/bench" --sgemm "$work/sgemm" "$@"
