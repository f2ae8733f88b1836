#!/usr/bin/env bash
# `npm start`, the main job from a fresh clone. With no arguments it opens the extension in a
# real VS Code: `scripts/serve.sh` installs what is missing, builds and packages the .vsix,
# installs it into code-server and serves a demo workspace at http://127.0.0.1:8080. With
# arguments it installs and builds, then runs the CLI with them (`npm start -- new cnn-mha`,
# `npm start -- blocks`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then exec bash scripts/serve.sh; fi
bash scripts/setup/node-deps.sh
node scripts/build.mjs >/dev/null 2>&1 || node scripts/build.mjs || exit 1
exec node dist/cli.js "$@"
