# shellcheck shell=bash
# k3sctl instance-side library: logging, bounded retries, IMDSv2, AWS wrappers and CLI, failure
# reports, k3s unit starts, the control-plane hosts entry and install_k3s. Sourced by every script in
# /usr/local/bin/k3sctl-*.
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
K3SCTL_OS_RELEASE="${K3SCTL_OS_RELEASE:-$K3SCTL_ROOT/etc/os-release}"
K3SCTL_CONSOLE="${K3SCTL_CONSOLE:-/dev/console}"
K3SCTL_SNAP_BIN="${K3SCTL_SNAP_BIN:-/snap/bin}"
K3SCTL_CONTROL_PLANE_HOST="control-plane.cluster.local"
K3SCTL_LOG_NAME="${K3SCTL_LOG_NAME:-${0##*/}}"
# cloud-init and systemd's PATH lacks /snap/bin (Ubuntu's AWS CLI snap); appended, so an image's own CLI wins.
case ":$PATH:" in
  *":$K3SCTL_SNAP_BIN:"*) ;;
  *) PATH="$PATH:$K3SCTL_SNAP_BIN" ;;
esac

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
log() { printf '%s %s: %s\n' "$(now)" "$K3SCTL_LOG_NAME" "$*" >&2; }
warn() { log "WARNING: $*"; }
# die MESSAGE: exits 1; MESSAGE is the reason report_failure_on_exit records.
K3SCTL_FATAL_REASON=""
die() {
  log "ERROR: $*"
  K3SCTL_FATAL_REASON=$*
  exit 1
}

# console MESSAGE: to the serial console (EC2 GetConsoleOutput), which needs no AWS API access.
console() {
  { printf '%s k3sctl: %s\n' "$(now)" "$*" >>"$K3SCTL_CONSOLE"; } 2>/dev/null || true
}

# one_line TEXT: printable ASCII on one line, at most 1000 characters.
one_line() { printf '%s' "$1" | LC_ALL=C tr -c '[:print:]' ' ' | cut -c1-1000; }

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

# os_id: ID= of /etc/os-release (amzn, ubuntu, ...), empty when unknown.
os_id() {
  local id
  id=$(sed -n 's/^ID=//p' "$K3SCTL_OS_RELEASE" 2>/dev/null | head -n 1)
  id=${id//\"/}
  printf '%s' "${id//\'/}"
}

# ensure_aws_cli: the AWS CLI v2 is on PATH. Amazon Linux 2023 ships it; on Ubuntu (none) it is
# installed from the aws-cli snap (published by AWS, signature-checked by snapd).
ensure_aws_cli() {
  local os
  if ! command -v aws >/dev/null 2>&1; then
    os=$(os_id)
    case "$os" in
      ubuntu)
        command -v snap >/dev/null 2>&1 || {
          log "no AWS CLI and no snapd on this Ubuntu image"
          return 1
        }
        log "no AWS CLI on this image ($os): installing the AWS CLI v2 snap (aws-cli, published by AWS)"
        retry "snapd to finish seeding" snap wait system seed.loaded || warn "snapd is not seeded; trying the install anyway"
        retry "snap install aws-cli --classic" snap install aws-cli --classic || return 1
        ;;
      *)
        log "no AWS CLI on this image (${os:-unknown OS in $K3SCTL_OS_RELEASE}) and no known way to install it"
        return 1
        ;;
    esac
    hash -r
    command -v aws >/dev/null 2>&1 || {
      log "the AWS CLI was installed but aws is not on PATH ($PATH)"
      return 1
    }
  fi
  log "using $(command -v aws): $(aws --version 2>&1 | head -n 1)"
}

# report_bootstrap_failure REASON: the bootstrap gave up for good. Stops k3s (an instance that gave
# up, an election winner too, never comes up later), keeps REASON (one line, <= 1000 chars, our own
# message: no secret) in bootstrap-failed, on the console and in SSM PREFIX/INSTANCE_ID, and marks the
# instance Unhealthy so its group replaces it. Without AWS CLI or instance id: the console only.
report_bootstrap_failure() {
  local reason unit="" parameter
  reason=$(one_line "$K3SCTL_LOG_NAME: $1")
  mkdir -p "$K3SCTL_STATE_DIR" 2>/dev/null && printf '%s\n' "$reason" >"$K3SCTL_STATE_DIR/bootstrap-failed" 2>/dev/null
  console "bootstrap of ${K3SCTL_INSTANCE_ID:-this instance} failed: $reason"
  case "${K3SCTL_ROLE:-}" in
    control-plane) unit=k3s.service ;;
    node) unit=k3s-agent.service ;;
  esac
  if [[ -n $unit ]]; then systemctl disable --now --no-block "$unit" >/dev/null 2>&1 || warn "could not stop $unit"; fi
  if [[ -z ${K3SCTL_INSTANCE_ID:-} ]] || ! command -v aws >/dev/null 2>&1; then
    console "cannot report the failure to AWS (${K3SCTL_INSTANCE_ID:-no instance id}, $(command -v aws || echo no AWS CLI)): this console output is the only record"
    return 0
  fi
  if [[ -n ${K3SCTL_FAILURE_PARAMETER_PREFIX:-} ]]; then
    parameter="$K3SCTL_FAILURE_PARAMETER_PREFIX/$K3SCTL_INSTANCE_ID"
    if retry "recording the failure in SSM parameter $parameter" awsr ssm put-parameter --name "$parameter" \
      --type String --overwrite --value "$reason" >/dev/null; then
      log "recorded the failure in SSM parameter $parameter"
    else
      console "could not record the failure in SSM parameter $parameter"
    fi
  fi
  if retry "marking $K3SCTL_INSTANCE_ID Unhealthy" awsr autoscaling set-instance-health --instance-id "$K3SCTL_INSTANCE_ID" \
    --health-status Unhealthy --no-should-respect-grace-period; then
    log "marked $K3SCTL_INSTANCE_ID Unhealthy: its Auto Scaling group replaces it"
  else
    console "could not mark $K3SCTL_INSTANCE_ID Unhealthy (autoscaling:SetInstanceHealth)"
  fi
}

# report_failure_on_exit: from here on, a non-zero exit is a failed bootstrap (reported).
report_failure_on_exit() { trap '_report_failure_on_exit $?' EXIT; }
_report_failure_on_exit() {
  local rc=$1
  trap - EXIT
  ((rc == 0)) && return 0
  set +e
  report_bootstrap_failure "${K3SCTL_FATAL_REASON:-exited with status $rc}"
  exit "$rc"
}

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

# agent_healthy: the local kubelet's healthz (127.0.0.1:10248) answers: the agent joined a server.
agent_healthy() {
  local body
  body=$(curl -sS --max-time "${K3SCTL_PROBE_TIMEOUT:-3}" "http://127.0.0.1:${K3SCTL_KUBELET_HEALTHZ_PORT:-10248}/healthz" 2>/dev/null) || return 1
  [[ $body == ok* ]]
}

# has_etcd_data: this server holds embedded-etcd data (it is or was a member).
has_etcd_data() {
  [[ -d $K3SCTL_K3S_DATA_DIR/server/db ]] && [[ -n $(ls -A "$K3SCTL_K3S_DATA_DIR/server/db") ]]
}

# start_k3s_unit UNIT CHECK...: enables UNIT, starts it without blocking and waits for CHECK
# (K3SCTL_READY_ATTEMPTS retries); restarts it, with growing pauses, up to K3SCTL_START_ATTEMPTS starts.
start_k3s_unit() {
  local unit=$1 start=1 starts=${K3SCTL_START_ATTEMPTS:-3} delay=$K3SCTL_RETRY_SLEEP verb=start
  shift
  systemctl daemon-reload || warn "systemctl daemon-reload failed"
  retry "systemd to enable $unit" systemctl enable "$unit" || return 1
  while true; do
    if systemctl "$verb" --no-block "$unit"; then
      if K3SCTL_RETRY_ATTEMPTS=${K3SCTL_READY_ATTEMPTS:-20} retry "$unit to become healthy (start $start/$starts)" "$@"; then
        return 0
      fi
    else
      warn "systemctl $verb $unit failed (start $start/$starts)"
    fi
    if ((start >= starts)); then
      log "$unit did not become healthy after $starts starts (see journalctl -u $unit)"
      return 1
    fi
    log "restarting $unit in ${delay}s (start $((start + 1))/$starts; see journalctl -u $unit)"
    sleep "$delay"
    start=$((start + 1)) verb=restart delay=$((delay * 2))
    ((delay <= K3SCTL_RETRY_MAX_SLEEP)) || delay=$K3SCTL_RETRY_MAX_SLEEP
  done
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
