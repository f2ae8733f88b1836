#!/usr/bin/env bash
# Installs pyflakes, torchvision (its installed models are analyzer test input) and the two real PyTorch versions the test suite verifies generated code
# against, idempotently:
#   - torch 1.13: Debian bookworm's python3-torch, used through /usr/bin/python3;
#   - torch 2.6:  Debian trixie's python3-torch inside a debootstrap chroot kept
#                 in a cache folder outside the repository.
# A chroot that was left half-made (no completion marker) is rebuilt.
set -euo pipefail

SETUP_PART=torch
# shellcheck source=scripts/setup/lib.sh
source "$(dirname "$0")/lib.sh"
ROOT="$CACHE/trixie"
MARK="$ROOT/.attention-forge-ready"
# What the chroot must hold; a chroot made before a package joined this list gets it added.
CHROOT_PKGS=(python3-torch python3-numpy libopenblas0-pthread python3-einops)

# torch 1.13 from bookworm.
apt_install python3-torch python3-numpy python3-pyflakes python3-torchvision
/usr/bin/python3 -c 'import torch; assert torch.__version__.startswith("1.13"), torch.__version__' \
  || { log "torch 1.13 not importable by /usr/bin/python3"; exit 1; }
log "torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') at /usr/bin/python3"

# torch 2.6 from trixie, in a chroot.
if [ ! -f "$MARK" ]; then
  need_root
  apt_install debootstrap debian-archive-keyring
  if [ -d "$ROOT" ]; then
    log "removing half-made chroot $ROOT"
    for m in proc dev/shm dev/pts work; do umount -l "$ROOT/$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$ROOT"
  fi
  mkdir -p "$CACHE"
  log "debootstrap trixie into $ROOT (about 75 s once; log: $CACHE/debootstrap.log)"
  debootstrap --variant=minbase trixie "$ROOT" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log"; log "debootstrap failed; the whole log is $CACHE/debootstrap.log"; exit 1; }
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  touch "$MARK"
fi

chroot_missing=()
for p in "${CHROOT_PKGS[@]}"; do
  chroot "$ROOT" dpkg -s "$p" >/dev/null 2>&1 || chroot_missing+=("$p")
done
if [ ${#chroot_missing[@]} -gt 0 ]; then
  need_root "${chroot_missing[*]} in the chroot"
  rm -f "$MARK"
  log "apt-get install ${chroot_missing[*]} in the chroot (log: $CACHE/chroot-apt.log)"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
  mount -t proc proc "$ROOT/proc"
  trap 'umount -l "$ROOT/proc" 2>/dev/null || true' EXIT
  { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${chroot_missing[@]}"; } >"$CACHE/chroot-apt.log" 2>&1 \
    || { tail -20 "$CACHE/chroot-apt.log"; log "chroot apt-get failed; the whole log is $CACHE/chroot-apt.log"; exit 1; }
  chroot "$ROOT" apt-get clean
  umount -l "$ROOT/proc" 2>/dev/null || true
  trap - EXIT
  touch "$MARK"
fi
log "torch $(bash "$(dirname "$0")/../torch/in-trixie.sh" python3 -c 'import torch; print(torch.__version__)') in $ROOT"
