#!/usr/bin/env bash
# Installs what the tests need beyond Go: the npm packages of the tokenizer oracles.
# Idempotent; run from anywhere. (Root is needed for the apt packages some tests use.)
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix tokenizer/testdata/js --no-audit --no-fund --loglevel=error
# Headless Chromium for the web page's browser test (Debian's package, no downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# playwright-core (driving that Chromium) and workerd (the edge endpoint), pinned by the lock file.
npm ci --prefix web/test --no-audit --no-fund --loglevel=error
