#!/usr/bin/env bash
# Installs what the tests need beyond Go: the npm packages of the tokenizer oracles.
# Idempotent; run from anywhere. (Root is needed for the apt packages some tests use.)
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix tokenizer/testdata/js --no-audit --no-fund --loglevel=error
# Debian packages: headless Chromium for the web page's browser test (no downloaded
# browser), and Mesa's software Vulkan driver (lavapipe) for the WebGPU backend's tests.
if ! command -v chromium >/dev/null 2>&1 || [ ! -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends chromium mesa-vulkan-drivers libvulkan1 >/dev/null
fi
# playwright-core (driving that Chromium) and workerd (the edge endpoint), pinned by the lock file.
npm ci --prefix web/test --no-audit --no-fund --loglevel=error
