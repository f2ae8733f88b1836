#!/usr/bin/env bash
# Runs a command inside the Debian trixie chroot that holds torch 2.6.
# It runs in a private mount namespace (unshare), so /proc, /dev, /tmp and the
# repository bind mounts vanish with the process even when it is killed.
# The repository and /tmp are mounted at the same paths as outside, so file
# paths can be passed through unchanged. Python-related variables are cleared.
set -euo pipefail
CACHE="${ATTENTION_FORGE_CACHE:-/var/cache/attention-forge}"
ROOT="$CACHE/trixie"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
if [ ! -f "$ROOT/.attention-forge-ready" ]; then
  echo "torch 2.6 chroot missing: run scripts/setup/torch.sh" >&2; exit 3
fi
TMP="${TMPDIR:-/tmp}"
exec unshare --mount --propagation private -- bash -c '
  set -e
  R="$1"; REPO="$2"; TMP="$3"; shift 3
  mount -t proc proc "$R/proc"
  mount --rbind /dev "$R/dev"
  mkdir -p "$R$REPO" "$R$TMP"
  mount --bind "$REPO" "$R$REPO"
  mount --bind "$TMP" "$R$TMP"
  cd "$R$REPO"
  exec chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" bash -c "cd \"\$0\" && exec \"\$@\"" "$REPO" "$@"
' bash "$ROOT" "$REPO" "$TMP" "$@"
