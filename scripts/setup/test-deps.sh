#!/usr/bin/env bash
# Installs everything the test suite needs, idempotently: npm dependencies and
# the two real PyTorch versions generated code is verified against.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/node-deps.sh"
bash "$here/torch.sh"
bash "$here/webgpu.sh"
bash "$here/code-server.sh"
