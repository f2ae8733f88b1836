# Shared by the setup scripts (sourced, not run). Each script sets SETUP_PART before sourcing.
#   CACHE        where the heavy parts live: $ATTENTION_FORGE_CACHE, else /var/cache/attention-forge
#   log MSG      one line tagged [setup:PART]
#   apt_install  installs the Debian packages that are missing, logging apt's output to
#                $CACHE/apt-PART.log and naming that file when it fails
CACHE="${ATTENTION_FORGE_CACHE:-/var/cache/attention-forge}"

log() { printf '[setup:%s] %s\n' "$SETUP_PART" "$*"; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    log "root is needed to install Debian packages ($*); run the command again as root"; exit 1
  fi
}

apt_install() {
  local missing=() p apt_log
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "${missing[*]}"
  mkdir -p "$CACHE"
  apt_log="$CACHE/apt-$SETUP_PART.log"
  log "apt-get install ${missing[*]} (log: $apt_log)"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq || true; } >"$apt_log" 2>&1
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 \
    || { tail -20 "$apt_log"; log "apt-get install failed; the whole log is $apt_log"; exit 1; }
}
