#!/usr/bin/env bash
# Installs the npm dependencies from package-lock.json when node_modules is
# missing or older than the lock file. Idempotent and quick when up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."
stamp=node_modules/.attention-forge-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "[setup:node] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
