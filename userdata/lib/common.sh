# shellcheck shell=bash
# k3sctl instance-side library: logging, bounded retries, IMDSv2, AWS wrappers, the
# control-plane hosts entry and install_k3s. Sourced by every script in /usr/local/bin/k3sctl-*.
# Every path is prefixed with K3SCTL_ROOT and every delay/count is overridable so the
# scripts run unprivileged under bats.

K3SCTL_ROOT="${K3SCTL_ROOT:-}"
K3SCTL_CONFIG="${K3SCTL_CONFIG:-$K3SCTL_ROOT/etc/k3sctl/config.env}"
K3SCTL_STATE_DIR="${K3SCTL_STATE_DIR:-$K3SCTL_ROOT/var/lib/k3sctl}"
K3SCTL_HOSTS_FILE="${K3SCTL_HOSTS_FILE:-$K3SCTL_ROOT/etc/hosts}"
K3SCTL_K3S_DATA_DIR="${K3SCTL_K3S_DATA_DIR:-$K3SCTL_ROOT/var/lib/rancher/k3s}"
K3SCTL_BIN_DIR="${K3SCTL_BIN_DIR:-$K3SCTL_ROOT/usr/local/bin}"
K3SCTL_RUN_DIR="${K3SCTL_RUN_DIR:-$K3SCTL_ROOT/run/k3sctl}"
K3SCTL_RETRY_ATTEMPTS="${K3SCTL_RETRY_ATTEMPTS:-8}"
K3SCTL_RETRY_SLEEP="${K3SCTL_RETRY_SLEEP:-2}"
K3SCTL_RETRY_MAX_SLEEP="${K3SCTL_RETRY_MAX_SLEEP:-30}"
K3SCTL_IMDS_URL="${K3SCTL_IMDS_URL:-http://169.254.169.254}"
K3SCTL_API_PORT="${K3SCTL_API_PORT:-6443}"
K3SCTL_CONTROL_PLANE_HOST="control-plane.cluster.local"
K3SCTL_LOG_NAME="${K3SCTL_LOG_NAME:-${0##*/}}"

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$K3SCTL_LOG_NAME" "$*" >&2; }
warn() { log "WARNING: $*"; }
die() {
  log "ERROR: $*"
  exit 1
}

load_config() {
  [[ -r $K3SCTL_CONFIG ]] || die "configuration $K3SCTL_CONFIG is missing or unreadable"
  # shellcheck disable=SC2034 # used by the scripts that source the configuration
  declare -ga K3SCTL_K3S_ARGS=() K3SCTL_NODE_LABELS=() K3SCTL_NODE_TAINTS=() K3SCTL_TLS_SANS=()
  # shellcheck source=/dev/null
  source "$K3SCTL_CONFIG"
  local v
  for v in K3SCTL_CLUSTER K3SCTL_ROLE K3SCTL_REGION K3SCTL_TAG_CLUSTER K3SCTL_TAG_ROLE; do
    [[ -n ${!v:-} ]] || die "$v is not set in $K3SCTL_CONFIG"
  done
  mkdir -p "$K3SCTL_STATE_DIR"
}

# retry DESCRIPTION COMMAND...: runs COMMAND until it succeeds, at most K3SCTL_RETRY_ATTEMPTS
# times, sleeping K3SCTL_RETRY_SLEEP * 2^n (capped at K3SCTL_RETRY_MAX_SLEEP) between tries.
retry() {
  local what=$1 attempt=1 delay=$K3SCTL_RETRY_SLEEP
  shift
  while true; do
    if "$@"; then return 0; fi
    if ((attempt >= K3SCTL_RETRY_ATTEMPTS)); then
      log "gave up waiting for $what after $attempt attempts"
      return 1
    fi
    log "waiting for $what (attempt $attempt/$K3SCTL_RETRY_ATTEMPTS failed; next in ${delay}s)"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
    ((delay > K3SCTL_RETRY_MAX_SLEEP)) && delay=$K3SCTL_RETRY_MAX_SLEEP
  done
}

# IMDSv2 only: a session token first, then every read carries it.
_imds_token=""
imds_token() {
  [[ -n $_imds_token ]] && return 0
  _imds_token=$(curl -sSf --max-time 5 -X PUT "$K3SCTL_IMDS_URL/latest/api/token" \
    -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600') || return 1
  [[ -n $_imds_token ]]
}

_imds_get_once() {
  imds_token || return 1
  curl -sSf --max-time 5 -H "X-aws-ec2-metadata-token: $_imds_token" "$K3SCTL_IMDS_URL/latest/meta-data/$1"
}

# imds_get PATH: prints a metadata value, retrying; fails after the bounded retries.
imds_get() {
  local out
  out=$(retry "instance metadata $1" _imds_get_once "$1") || return 1
  printf '%s' "$out"
}

# imds_get_optional PATH: single attempt (e.g. public-ipv4 is absent on private instances).
imds_get_optional() { _imds_get_once "$1" 2>/dev/null || true; }

awsr() { aws --region "$K3SCTL_REGION" "$@"; }

_ssm_fetch_once() {
  (umask 077 && awsr ssm get-parameter --name "$1" --with-decryption \
    --query Parameter.Value --output text >"$2" 2>/dev/null) && [[ -s $2 ]]
}

# ssm_fetch_secret PARAMETER FILE: writes a SecureString to FILE (mode 0600) without the value
# ever passing through a variable, an argument or a log line.
ssm_fetch_secret() {
  local name=$1 file=$2 tmp
  mkdir -p "$(dirname "$file")"
  tmp="$file.tmp.$$"
  if ! retry "SSM parameter $name (is the instance role allowed to read it?)" _ssm_fetch_once "$name" "$tmp"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 600 "$tmp"
  mv -f "$tmp" "$file"
}

# ssm_get_plain PARAMETER: prints a non-secret parameter value, empty when it does not exist.
ssm_get_plain() {
  local out rc=0
  out=$(awsr ssm get-parameter --name "$1" --query Parameter.Value --output text 2>&1) || rc=$?
  if ((rc == 0)); then
    printf '%s' "$out"
  elif [[ $out == *ParameterNotFound* ]]; then
    printf ''
  else
    return 1
  fi
}

# list_control_planes: "LAUNCHTIME INSTANCEID PRIVATEIP" of the cluster's running control planes,
# sorted by launch time then instance id (the election order).
_list_control_planes_once() {
  awsr ec2 describe-instances \
    --filters "Name=tag:$K3SCTL_TAG_CLUSTER,Values=$K3SCTL_CLUSTER" \
    "Name=tag:$K3SCTL_TAG_ROLE,Values=control-plane" \
    "Name=instance-state-name,Values=running" \
    --query 'Reservations[].Instances[].[LaunchTime,InstanceId,PrivateIpAddress]' --output text
}
list_control_planes() {
  local out
  out=$(retry "EC2 DescribeInstances (control planes of $K3SCTL_CLUSTER)" _list_control_planes_once) || return 1
  printf '%s\n' "$out" | awk 'NF >= 3 && $3 != "None"' | sort -k1,1 -k2,2
}

# server_healthy IP: the k3s supervisor answers /ping on the API port without credentials.
server_healthy() {
  local body
  body=$(curl -ksS --max-time "${K3SCTL_PROBE_TIMEOUT:-3}" "https://$1:$K3SCTL_API_PORT/ping" 2>/dev/null) || return 1
  [[ $body == pong* ]]
}

# set_hosts_entry IP: exactly one "IP control-plane.cluster.local" line; rewritten in place
# (not replaced) so bind-mounted /etc/hosts keeps working; no write when already current.
set_hosts_entry() {
  local ip=$1 line tmp
  line="$ip $K3SCTL_CONTROL_PLANE_HOST"
  touch "$K3SCTL_HOSTS_FILE"
  if [[ $(grep -cE "[[:space:]]${K3SCTL_CONTROL_PLANE_HOST//./\\.}([[:space:]]|\$)" "$K3SCTL_HOSTS_FILE") == 1 ]] &&
    grep -qxF "$line" "$K3SCTL_HOSTS_FILE"; then
    return 0
  fi
  tmp=$(mktemp)
  grep -vE "[[:space:]]${K3SCTL_CONTROL_PLANE_HOST//./\\.}([[:space:]]|\$)" "$K3SCTL_HOSTS_FILE" >"$tmp" || true
  printf '%s\n' "$line" >>"$tmp"
  cat "$tmp" >"$K3SCTL_HOSTS_FILE"
  rm -f "$tmp"
  log "$K3SCTL_CONTROL_PLANE_HOST -> $ip written to $K3SCTL_HOSTS_FILE"
}

# write_env FILE NAME=VALUE...: a sourceable file, every value shell-quoted.
write_env() {
  local file=$1 kv tmp
  shift
  tmp="$file.tmp.$$"
  : >"$tmp"
  for kv in "$@"; do printf '%s=%q\n' "${kv%%=*}" "${kv#*=}" >>"$tmp"; done
  mv -f "$tmp" "$file"
}

# install_k3s VERSION: the k3s binary for VERSION and this architecture from the GitHub
# release, verified against the release's sha256sum file. INSTALL_K3S_SKIP_DOWNLOAD=true uses
# the binary already on the image (baked AMIs, tests).
install_k3s() {
  local version=$1 arch suffix base tmp expected actual
  if [[ ${INSTALL_K3S_SKIP_DOWNLOAD:-false} == true ]]; then
    command -v k3s >/dev/null 2>&1 || [[ -x $K3SCTL_BIN_DIR/k3s ]] ||
      die "INSTALL_K3S_SKIP_DOWNLOAD is set but no k3s binary is installed"
    log "using the preinstalled k3s binary (INSTALL_K3S_SKIP_DOWNLOAD)"
    return 0
  fi
  if [[ -x $K3SCTL_BIN_DIR/k3s ]] && "$K3SCTL_BIN_DIR/k3s" --version 2>/dev/null | grep -qF "$version"; then
    log "k3s $version is already installed"
    return 0
  fi
  case "${K3SCTL_ARCH:-$(uname -m)}" in
    x86_64 | amd64) arch=amd64 suffix="" ;;
    aarch64 | arm64) arch=arm64 suffix="-arm64" ;;
    armv7l | arm) arch=arm suffix="-armhf" ;;
    *) die "unsupported architecture $(uname -m)" ;;
  esac
  base="${K3SCTL_K3S_RELEASE_URL:-https://github.com/k3s-io/k3s/releases/download}/${version//+/%2B}"
  tmp=$(mktemp -d)
  retry "k3s $version checksums" curl -fsSL --max-time 60 -o "$tmp/sha256sum.txt" "$base/sha256sum-$arch.txt" || die "cannot download $base/sha256sum-$arch.txt"
  retry "k3s $version binary ($arch)" curl -fsSL --max-time 600 -o "$tmp/k3s" "$base/k3s$suffix" || die "cannot download $base/k3s$suffix"
  expected=$(awk -v f="k3s$suffix" '$2 == f { print $1 }' "$tmp/sha256sum.txt")
  actual=$(sha256sum "$tmp/k3s" | awk '{ print $1 }')
  if [[ -z $expected || $expected != "$actual" ]]; then
    rm -rf "$tmp"
    die "checksum mismatch for k3s$suffix $version: expected '${expected:-none}', got '$actual'"
  fi
  mkdir -p "$K3SCTL_BIN_DIR"
  install -m 0755 "$tmp/k3s" "$K3SCTL_BIN_DIR/k3s"
  rm -rf "$tmp"
  local link
  for link in kubectl crictl ctr; do
    [[ -e $K3SCTL_BIN_DIR/$link ]] || ln -s k3s "$K3SCTL_BIN_DIR/$link"
  done
  log "installed k3s $version ($arch), sha256 $actual"
}
