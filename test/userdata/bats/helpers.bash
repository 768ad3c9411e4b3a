# shellcheck shell=bash
# Shared bats setup: an unprivileged fake root, stub commands on PATH, fixture directories.
REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)"
STUBS="$REPO_ROOT/test/userdata/stubs"
TOKEN_SERVER='K10server-secret-0d7c1f::server:5e3bb1a9'
TOKEN_AGENT='K10agent-secret-77aa01::node:e1c2d3'

setup_instance() {
  export K3SCTL_ROOT="$BATS_TEST_TMPDIR/root"
  export STUB_DIR="$BATS_TEST_TMPDIR/stubs"
  export STUB_LOG="$BATS_TEST_TMPDIR/stub.log"
  export K3SCTL_LIB="$REPO_ROOT/userdata/lib"
  export K3SCTL_BIN_PREFIX="$REPO_ROOT/userdata/bin"
  export K3SCTL_RETRY_SLEEP=0 K3SCTL_RETRY_ATTEMPTS=2 K3SCTL_JOIN_ATTEMPTS=3 K3SCTL_READY_ATTEMPTS=2 K3SCTL_START_ATTEMPTS=2
  export INSTALL_K3S_SKIP_DOWNLOAD=true
  # The serial console, and the directory of Ubuntu's snap commands (absent unless a test installs one).
  export K3SCTL_CONSOLE="$BATS_TEST_TMPDIR/console" K3SCTL_SNAP_BIN="$BATS_TEST_TMPDIR/snap-bin"
  mkdir -p "$K3SCTL_ROOT/etc/k3sctl" "$STUB_DIR"/{imds/placement,healthy,ssm,aws,http,k8s/by-id,k8s/nodes} "$BATS_TEST_TMPDIR/bin"
  : >"$STUB_LOG"
  local cmd
  for cmd in aws k3s kubectl systemctl snap; do ln -s "$STUBS/stub" "$BATS_TEST_TMPDIR/bin/$cmd"; done
  ln -s "$STUBS/curl" "$BATS_TEST_TMPDIR/bin/curl"
  ln -s "$STUBS/aws-fixtures" "$STUB_DIR/aws.handler"
  ln -s "$STUBS/kubectl-fixtures" "$STUB_DIR/kubectl.handler"
  ln -s "$STUBS/k3s-kubectl" "$STUB_DIR/k3s.handler"
  export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
  printf '127.0.0.1 localhost\n' >"$K3SCTL_ROOT/etc/hosts"
  printf '%s' "$TOKEN_SERVER" >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_server-token"
  printf '%s' "$TOKEN_AGENT" >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_agent-token"
}

# write_config ROLE: a config.env like the renderer's.
write_config() {
  cat >"$K3SCTL_ROOT/etc/k3sctl/config.env" <<CFG
K3SCTL_CLUSTER='alpha'
K3SCTL_ROLE='$1'
K3SCTL_GROUP='main'
K3SCTL_REGION='us-east-1'
K3SCTL_K3S_VERSION='v1.31.4+k3s1'
K3SCTL_SERVER_TOKEN_PARAMETER='/k3sctl/clusters/alpha/server-token'
K3SCTL_AGENT_TOKEN_PARAMETER='/k3sctl/clusters/alpha/agent-token'
K3SCTL_INITIALIZED_PARAMETER='/k3sctl/clusters/alpha/initialized'
K3SCTL_FAILURE_PARAMETER_PREFIX='/k3sctl/clusters/alpha/bootstrap-failures'
K3SCTL_LIFECYCLE_HOOK_NAME='k3sctl-graceful-leave'
K3SCTL_TAG_CLUSTER='k3sctl.io/cluster'
K3SCTL_TAG_ROLE='k3sctl.io/role'
K3SCTL_TAG_GROUP='k3sctl.io/group'
K3SCTL_INSTANCE_LABEL='k3sctl.io/instance-id'
K3SCTL_K3S_ARGS=('--disable=traefik' '--kube-apiserver-arg=audit-log-maxage=3 \$(touch pwned)')
K3SCTL_NODE_LABELS=('team=platform' 'tier=web')
K3SCTL_NODE_TAINTS=('dedicated=web:NoSchedule')
K3SCTL_TLS_SANS=('api.alpha.example.com')
CFG
}

# imds ID ZONE PRIVATE_IP [PUBLIC_IP]
imds() {
  printf '%s' "$1" >"$STUB_DIR/imds/instance-id"
  printf '%s' "$2" >"$STUB_DIR/imds/placement/availability-zone"
  printf '%s' "$3" >"$STUB_DIR/imds/local-ipv4"
  rm -f "$STUB_DIR/imds/public-ipv4"
  [[ -z ${4:-} ]] || printf '%s' "$4" >"$STUB_DIR/imds/public-ipv4"
}

# instance_env ID ZONE PRIVATE_IP [PUBLIC_IP]: what the bootstrap records.
instance_env() {
  mkdir -p "$K3SCTL_ROOT/var/lib/k3sctl"
  printf 'K3SCTL_INSTANCE_ID=%s\nK3SCTL_ZONE=%s\nK3SCTL_PRIVATE_IP=%s\nK3SCTL_PUBLIC_IP=%s\n' "$1" "$2" "$3" "${4:-}" \
    >"$K3SCTL_ROOT/var/lib/k3sctl/instance.env"
}

# control_planes "LAUNCHTIME ID IP" ...: the running control planes DescribeInstances returns.
control_planes() { printf '%s\n' "$@" | tr ' ' '\t' >"$STUB_DIR/aws/control-planes.txt"; }
healthy() { local ip; for ip in "$@"; do touch "$STUB_DIR/healthy/$ip"; done; }

# Fails when a token appears in the output, the stub log, the console, a recorded failure reason or
# any file outside the token files (extra files or directories to search: arguments).
# shellcheck disable=SC2154 # $output is set by bats' run
assert_no_token_leak() {
  local t hits
  for t in "$TOKEN_SERVER" "$TOKEN_AGENT"; do
    if [[ "$output" == *"$t"* ]]; then echo "token in output"; return 1; fi
    hits=$(grep -rlF "$t" "$STUB_LOG" "$K3SCTL_ROOT" "$K3SCTL_CONSOLE" "$STUB_DIR/ssm/"*bootstrap-failures* "$@" 2>/dev/null |
      grep -vE '/var/lib/k3sctl/(server|agent)-token$' || true)
    if [[ -n $hits ]]; then echo "token leaked into: $hits"; return 1; fi
  done
}

# os_release ALIAS: /etc/os-release of an OS image k3sctl offers (test/userdata/fixtures/os-release/).
os_release() { cp "$REPO_ROOT/test/userdata/fixtures/os-release/$1" "$K3SCTL_ROOT/etc/os-release"; }

# without_aws: PATH holds the stubs and the system's commands, but no aws anywhere (as on Ubuntu).
without_aws() {
  local dir="$BATS_TEST_TMPDIR/sys-bin" f
  rm -f "$BATS_TEST_TMPDIR/bin/aws"
  mkdir -p "$dir"
  for f in /usr/bin/* /bin/*; do
    [[ ${f##*/} == aws || -e $dir/${f##*/} ]] || ln -s "$f" "$dir/${f##*/}"
  done
  export PATH="$BATS_TEST_TMPDIR/bin:$dir"
}

# stub_handler NAME SCRIPT: the stub NAME runs the bash SCRIPT (arguments in "$@") after logging.
stub_handler() {
  rm -f "$STUB_DIR/$1.handler"
  printf '#!/bin/bash\n%s\n' "$2" >"$STUB_DIR/$1.handler"
  chmod +x "$STUB_DIR/$1.handler"
}

# A systemctl whose k3s units become healthy when started (k3s.service: /ping of this instance,
# k3s-agent.service: the kubelet's healthz) and stop answering when disabled.
healthy_systemctl() {
  # shellcheck disable=SC2016 # expanded by the handler
  stub_handler systemctl '
local=${STUB_LOCAL_IP:-127.0.0.1}
case "$*" in
  disable*k3s.service*) rm -f "$STUB_DIR/healthy/$local" ;;
  disable*k3s-agent.service*) rm -f "$STUB_DIR/healthy/kubelet${STUB_LOCAL_IP:+-$STUB_LOCAL_IP}" ;;
  *start*k3s.service*) touch "$STUB_DIR/healthy/$local" ;;
  *start*k3s-agent.service*) touch "$STUB_DIR/healthy/kubelet${STUB_LOCAL_IP:+-$STUB_LOCAL_IP}" ;;
esac
exit 0'
}

# failure_reason ID: the reason a failed bootstrap recorded in (fake) SSM.
failure_reason() { cat "$STUB_DIR/ssm/_k3sctl_clusters_alpha_bootstrap-failures_$1" 2>/dev/null; }

# line_of PATTERN: the first stub-log line number matching the extended regex (0 when none).
line_of() { grep -nE "$1" "$STUB_LOG" | head -n 1 | cut -d: -f1 | grep . || echo 0; }

# stub_calls PATTERN: number of stub-log lines matching the extended regex.
stub_calls() { grep -cE "$1" "$STUB_LOG" || true; }
