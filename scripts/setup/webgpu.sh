#!/usr/bin/env bash
# Installs the WebGPU adapter the test suite runs on when there is no GPU, idempotently:
# lavapipe (Mesa's CPU Vulkan driver) from bookworm-backports' Mesa 25, because Dawn rejects
# bookworm's own Mesa 22. The three packages it needs (mesa-vulkan-drivers, libdrm2,
# libdrm-amdgpu1) are fetched with `apt-get download` through a private apt configuration and
# unpacked with `dpkg-deb -x` into a cache folder, so system packages stay untouched; only the
# Vulkan loader (libvulkan1) is installed from bookworm itself. Writes an ICD json next to the
# unpacked driver; test/helpers/webgpu-env.ts points VK_ICD_FILENAMES and LD_LIBRARY_PATH at
# them. A folder left half-made (no completion marker) is unpacked again.
set -euo pipefail

SETUP_PART=webgpu
# shellcheck source=scripts/setup/lib.sh
source "$(dirname "$0")/lib.sh"
ROOT="$CACHE/lavapipe"
MARK="$ROOT/.attention-forge-ready"
LIBDIR="$ROOT/usr/lib/x86_64-linux-gnu"
ICD="$ROOT/lvp_icd.json"

if [ "$(uname -m)" != x86_64 ]; then
  log "lavapipe setup only knows x86_64 (this is $(uname -m)); skipping"; exit 0
fi

# The Vulkan loader Dawn dlopens.
apt_install libvulkan1

if [ ! -f "$MARK" ]; then
  mkdir -p "$CACHE"
  rm -rf --one-file-system "$ROOT"
  work="$(mktemp -d "$CACHE/lavapipe-apt.XXXXXX")"
  trap 'rm -rf --one-file-system "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/debs"
  echo 'deb http://deb.debian.org/debian bookworm-backports main' >"$work/sources.list"
  # A private apt: its own source list, its own package lists and cache, nothing of the
  # system's state read or written.
  apt_opts=(
    -o "Dir::Etc::SourceList=$work/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache::Archives=$work/archives"
    -o "Dir::Cache::pkgcache=$work/pkgcache.bin"
    -o "Dir::Cache::srcpkgcache=$work/srcpkgcache.bin"
    -o "APT::Default-Release=bookworm-backports"
    -o "APT::Sandbox::User=root"
  )
  dl_log="$CACHE/lavapipe-download.log"
  log "apt-get download mesa-vulkan-drivers libdrm2 libdrm-amdgpu1 from bookworm-backports (log: $dl_log)"
  { apt-get "${apt_opts[@]}" update -qq \
    && (cd "$work/debs" && apt-get "${apt_opts[@]}" download \
      mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports); } >"$dl_log" 2>&1 \
    || { tail -20 "$dl_log"; log "download failed; the whole log is $dl_log"; exit 1; }
  mkdir -p "$ROOT"
  for deb in "$work"/debs/*.deb; do
    log "unpacking $(basename "$deb")"
    dpkg-deb -x "$deb" "$ROOT"
  done
  [ -f "$LIBDIR/libvulkan_lvp.so" ] || { log "libvulkan_lvp.so missing after unpacking"; exit 1; }
  printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.4.305"}}\n' \
    "$LIBDIR/libvulkan_lvp.so" >"$ICD"
  touch "$MARK"
  rm -rf --one-file-system "$work"
  trap - EXIT
fi
log "lavapipe ready: VK_ICD_FILENAMES=$ICD LD_LIBRARY_PATH=$LIBDIR"
