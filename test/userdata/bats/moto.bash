# shellcheck shell=bash
# The instance scripts against moto (test/userdata/moto/lifecycle_server.py) with the real AWS CLI
# v2 (stubs/aws-moto); k3s, kubectl, systemctl, snap stay stubs and IMDS stays the fake of stubs/curl.
# One moto per bats file (setup_file), reset before every test. Outside CI, a missing AWS CLI v2 or
# moto skips these tests with the reason; in CI (CI set) it fails them.
MOTO_PYTHON=${K3SCTL_MOTO_PYTHON:-python3}
REAL_AWS=${K3SCTL_TEST_AWS_CLI:-/usr/bin/aws}
export K3SCTL_TEST_AWS_CLI=$REAL_AWS

# moto_unavailable: why these tests cannot run here; nothing when they can.
moto_unavailable() {
  if [[ ! -x $REAL_AWS ]]; then
    echo "no AWS CLI v2 at $REAL_AWS (apt-get install awscli; .ci/run installs it)"
  elif ! "$REAL_AWS" --version 2>&1 | grep -q '^aws-cli/2\.'; then
    echo "$REAL_AWS is not the AWS CLI v2"
  elif ! "$MOTO_PYTHON" -c 'import moto.server, boto3' >/dev/null 2>&1; then
    echo "moto's server is not importable by $MOTO_PYTHON (pip install 'moto[server]'; or set K3SCTL_MOTO_PYTHON)"
  fi
}

start_moto() {
  local why port _
  why=$(moto_unavailable)
  if [[ -n $why ]]; then
    if [[ -n ${CI:-} ]]; then
      echo "the moto bats tests cannot run in CI: $why" >&2
      return 1
    fi
    echo "# instance scripts against moto skipped: $why" >&3
    export MOTO_SKIP="instance scripts against moto skipped: $why"
    return 0
  fi
  port=$("$MOTO_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export MOTO_ENDPOINT="http://127.0.0.1:$port" MOTO_LOG="$BATS_FILE_TMPDIR/moto.log"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true PYTHONUNBUFFERED=1 \
    "$MOTO_PYTHON" "$REPO_ROOT/test/userdata/moto/lifecycle_server.py" "$port" >"$MOTO_LOG" 2>&1 3>&- &
  echo "$!" >"$BATS_FILE_TMPDIR/moto.pid"
  for _ in $(seq 1 300); do
    if curl -sf "$MOTO_ENDPOINT/moto-api/data.json" >/dev/null 2>&1; then return 0; fi
    kill -0 "$(cat "$BATS_FILE_TMPDIR/moto.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "moto did not answer on $MOTO_ENDPOINT: $(tail -n 20 "$MOTO_LOG")" >&2
  return 1
}

stop_moto() {
  [[ -f $BATS_FILE_TMPDIR/moto.pid ]] || return 0
  kill "$(cat "$BATS_FILE_TMPDIR/moto.pid")" 2>/dev/null || true
  rm -f "$BATS_FILE_TMPDIR/moto.pid"
}

# setup_moto_instance: setup_instance, a fresh moto account, the real CLI as aws.
setup_moto_instance() {
  [[ -z ${MOTO_SKIP:-} ]] || skip "$MOTO_SKIP"
  curl -sf -X POST "$MOTO_ENDPOINT/moto-api/reset" >/dev/null # before the curl stub is on PATH
  setup_instance
  # the moto log from here on is this test's
  wc -l <"$MOTO_LOG" >"$MOTO_LOG.mark"
  rm -f "$BATS_TEST_TMPDIR/bin/aws"
  ln -s "$STUBS/aws-moto" "$BATS_TEST_TMPDIR/bin/aws"
  export TOKEN_SERVER TOKEN_AGENT
  # Real calls take time: a little more patience than the stub tests, still bounded.
  export K3SCTL_RETRY_SLEEP=1 K3SCTL_RETRY_MAX_SLEEP=2 K3SCTL_JOIN_SLEEP=2 K3SCTL_JOIN_ATTEMPTS=10
  healthy_systemctl
}

fixture() { "$MOTO_PYTHON" "$REPO_ROOT/test/userdata/moto/fixture.py" "$MOTO_ENDPOINT" "$@"; }
# moto_log_since_setup: what the harness printed during this test.
moto_log_since_setup() { tail -n +"$(($(cat "$MOTO_LOG.mark") + 1))" "$MOTO_LOG"; }

# cluster GROUP:ROLE:COUNT...: the moto cluster "alpha"; sets INSTANCES ("GROUP ROLE ID IP" lines).
cluster() { INSTANCES=$(fixture cluster alpha "$@"); }
# nth_instance GROUP N: "ID IP" of the Nth (1-based, by id) instance of GROUP.
nth_instance() { awk -v g="$1" '$1 == g { print $3, $4 }' <<<"$INSTANCES" | sed -n "${2}p"; }

instance_dir() { printf '%s' "$BATS_TEST_TMPDIR/instances/$1"; }

# new_instance ID IP ROLE: an instance's own root (config.env, instance.env, /etc/hosts), stub log
# and console; its k3s answers on IP.
new_instance() {
  local d
  d=$(instance_dir "$1")
  mkdir -p "$d/root/etc/k3sctl"
  : >"$d/stub.log"
  printf '%s' "$2" >"$d/ip"
  (
    export K3SCTL_ROOT="$d/root"
    write_config "$3"
    instance_env "$1" us-east-1a "$2"
    printf '127.0.0.1 localhost\n' >"$K3SCTL_ROOT/etc/hosts"
  )
}

# as_instance ID CMD...: runs CMD as instance ID; its output is appended to the instance's output file.
as_instance() {
  local d
  d=$(instance_dir "$1")
  shift
  K3SCTL_ROOT="$d/root" STUB_LOG="$d/stub.log" STUB_LOCAL_IP="$(cat "$d/ip")" K3SCTL_CONSOLE="$d/console" \
    "$@" >>"$d/output" 2>&1
}

# join_mode ID: K3SCTL_JOIN_MODE the instance recorded (empty when it never started k3s).
join_mode() { sed -n 's/^K3SCTL_JOIN_MODE=//p' "$(instance_dir "$1")/root/var/lib/k3sctl/join.env" 2>/dev/null; }
join_url() { sed -n 's/^K3SCTL_JOIN_URL=//p' "$(instance_dir "$1")/root/var/lib/k3sctl/join.env" 2>/dev/null; }
# server_argv ID: the k3s server command line instance ID's unit would run.
server_argv() {
  as_instance "$1" "$REPO_ROOT/userdata/bin/k3sctl-k3s-exec" server
  grep '^k3s server' "$(instance_dir "$1")/stub.log" | tail -n 1
}

# assert_no_token_in_instances: no token value in any instance's output, stub log (the AWS CLI's
# command lines), console or files (the 0600 token files aside), nor in the failure reasons in moto.
assert_no_token_in_instances() {
  local t hits
  for t in "$TOKEN_SERVER" "$TOKEN_AGENT"; do
    hits=$(grep -rlF "$t" "$BATS_TEST_TMPDIR/instances" "$STUB_LOG" "$K3SCTL_CONSOLE" 2>/dev/null |
      grep -vE '/var/lib/k3sctl/(server|agent)-token$' || true)
    if [[ -n $hits ]]; then
      echo "token leaked into: $hits"
      return 1
    fi
  done
  local _group _role id _ip
  while read -r _group _role id _ip; do
    [[ -n ${id:-} ]] || continue
    if fixture param "/k3sctl/clusters/alpha/bootstrap-failures/$id" | grep -qF -e "$TOKEN_SERVER" -e "$TOKEN_AGENT"; then
      echo "token in the failure reason of $id"
      return 1
    fi
  done <<<"${INSTANCES:-}"
  # the token files themselves are 0600
  local f
  for f in "$BATS_TEST_TMPDIR"/instances/*/root/var/lib/k3sctl/*-token; do
    [[ -e $f ]] || continue
    [[ $(stat -c %a "$f") == 600 ]] || {
      echo "$f is not 0600"
      return 1
    }
  done
}
