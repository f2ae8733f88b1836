#!/usr/bin/env bash
# Installs everything the test suites need, idempotently, and prints how long each part took:
# npm dependencies, the two real PyTorch versions generated code is verified against (with
# torchvision and einops, whose installed sources are analyzer test input), lavapipe for WebGPU,
# and Node 24 + code-server + chromium for the real-VS-Code suites. A second run finds
# everything in place and takes seconds. Each part names its log file when it fails.
set -euo pipefail
here="$(dirname "$0")"
total_start=$SECONDS
timings=()
for part in node-deps torch webgpu code-server; do
  start=$SECONDS
  bash "$here/$part.sh"
  timings+=("$(printf '%-12s %4d s' "$part" $((SECONDS - start)))")
done
echo "[setup] done in $((SECONDS - total_start)) s (cache: ${ATTENTION_FORGE_CACHE:-/var/cache/attention-forge})"
printf '[setup]   %s\n' "${timings[@]}"
