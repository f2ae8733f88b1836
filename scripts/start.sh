#!/usr/bin/env bash
# The main job from a fresh clone: install, build, and run the CLI.
# With no arguments it generates the cnn-mha block; any arguments are passed
# to the CLI (e.g. `npm start -- blocks`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup/node-deps.sh
node scripts/build.mjs >/dev/null
if [ $# -eq 0 ]; then set -- new cnn-mha; fi
exec node dist/cli.js "$@"
