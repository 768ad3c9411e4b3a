#!/usr/bin/env bats
# Control-plane join: election, join, rejoin, and never a second --cluster-init.
load helpers

setup() {
  setup_instance
  write_config control-plane
  instance_env i-0bbb 'us-east-1b' 10.0.2.20 54.1.2.3
  # Starting k3s.service makes the local server answer /ping.
  printf '#!/bin/bash\n[[ "$*" == *"k3s.service"* ]] && touch "$STUB_DIR/healthy/127.0.0.1"\nexit 0\n' >"$STUB_DIR/systemctl.handler"
  chmod +x "$STUB_DIR/systemctl.handler"
}

join() { run "$REPO_ROOT/userdata/bin/k3sctl-server-join"; }
join_env() { cat "$K3SCTL_ROOT/var/lib/k3sctl/join.env"; }
initialized_value() { cat "$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized" 2>/dev/null; }

@test "first server (earliest launch) runs --cluster-init and records the initialized parameter" {
  control_planes "2026-01-01T10:00:05+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 0 ]
  [[ "$output" == *"earliest-launched control plane: initialising cluster alpha"* ]]
  grep -qx 'K3SCTL_JOIN_MODE=init' <<<"$(join_env)"
  [[ "$(initialized_value)" == initialized-by=i-0bbb* ]]
  [ "$(stub_calls '^systemctl enable --now k3s.service')" -eq 1 ]
  [ "$(stub_calls '^systemctl enable --now k3sctl-leave-handler.timer')" -eq 1 ]
  # The k3s command line the unit runs:
  run "$REPO_ROOT/userdata/bin/k3sctl-k3s-exec" server
  [ "$status" -eq 0 ]
  line=$(grep '^k3s server' "$STUB_LOG")
  [[ "$line" == *"--cluster-init"* ]]
  [[ "$line" != *"--server "* ]]
  [[ "$line" == *"--tls-san control-plane.cluster.local"* ]]
  [[ "$line" == *"--tls-san 54.1.2.3"* ]]
  [[ "$line" == *"--tls-san api.alpha.example.com"* ]]
  [[ "$line" == *"--node-label topology.kubernetes.io/zone=us-east-1b"* ]]
  [[ "$line" == *"--node-label k3sctl.io/instance-id=i-0bbb"* ]]
  [[ "$line" == *"--token-file $K3SCTL_ROOT/var/lib/k3sctl/server-token"* ]]
  [[ "$line" == *"--agent-token-file $K3SCTL_ROOT/var/lib/k3sctl/agent-token"* ]]
  [ ! -e "$BATS_TEST_TMPDIR/pwned" ] && [ ! -e pwned ]
  assert_no_token_leak
}

@test "election breaks launch-time ties by instance id" {
  control_planes "2026-01-01T10:00:00+00:00 i-0ccc 10.0.3.30" "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_MODE=init' <<<"$(join_env)"
}

@test "second server joins the healthy one and never initialises" {
  printf 'initialized-by=i-0aaa' >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized"
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  healthy 10.0.1.10
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_MODE=join' <<<"$(join_env)"
  grep -qx 'K3SCTL_JOIN_URL=https://10.0.1.10:6443' <<<"$(join_env)"
  [ "$(stub_calls 'ssm put-parameter')" -eq 0 ]
  run "$REPO_ROOT/userdata/bin/k3sctl-k3s-exec" server
  line=$(grep '^k3s server' "$STUB_LOG")
  [[ "$line" == *"--server https://10.0.1.10:6443"* ]]
  [[ "$line" != *"--cluster-init"* ]]
  assert_no_token_leak
}

@test "a healthy server is joined even when this instance would be first" {
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20" "2026-01-01T10:05:00+00:00 i-0ccc 10.0.3.30"
  healthy 10.0.3.30
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_MODE=join' <<<"$(join_env)"
}

@test "a restarted former member (existing etcd data) rejoins without --cluster-init" {
  printf 'initialized-by=i-0aaa' >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized"
  mkdir -p "$K3SCTL_ROOT/var/lib/rancher/k3s/server/db/etcd"
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20" "2026-01-01T10:05:00+00:00 i-0ccc 10.0.3.30"
  join
  [ "$status" -eq 0 ]
  [[ "$output" == *"rejoining as a former member"* ]]
  grep -qx 'K3SCTL_JOIN_MODE=member' <<<"$(join_env)"
  run "$REPO_ROOT/userdata/bin/k3sctl-k3s-exec" server
  line=$(grep '^k3s server' "$STUB_LOG")
  [[ "$line" != *"--cluster-init"* ]]
  # With a healthy peer it rejoins through it.
  healthy 10.0.3.30
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_URL=https://10.0.3.30:6443' <<<"$(join_env)"
}

@test "no healthy server and not first: retries, then fails clearly" {
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"waiting for i-0aaa (earliest launched) to initialise cluster alpha"* ]]
  [[ "$output" == *"not the first control plane (i-0aaa)"* ]]
  [ "$(stub_calls '^aws .*ec2 describe-instances')" -eq 3 ]
  [ "$(stub_calls 'k3s.service')" -eq 0 ]
  [ ! -e "$K3SCTL_ROOT/var/lib/k3sctl/join.env" ]
}

@test "initialized recorded and no healthy server: never --cluster-init, fails loudly" {
  printf 'initialized-by=i-0old at=2026-01-01T00:00:00Z' >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized"
  # This instance is the earliest running control plane (the original first server was replaced).
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20" "2026-01-01T10:05:00+00:00 i-0ccc 10.0.3.30"
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"already initialised"* ]]
  [[ "$output" == *"refusing to --cluster-init a second, empty cluster"* ]]
  [ "$(stub_calls 'k3s.service')" -eq 0 ]
  [ "$(stub_calls 'ssm put-parameter')" -eq 0 ]
  [ ! -e "$K3SCTL_ROOT/var/lib/k3sctl/join.env" ]
}

@test "an unreadable initialized parameter is never taken as 'not initialised'" {
  touch "$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized.denied"
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot read /k3sctl/clusters/alpha/initialized; not initialising"* ]]
  [ "$(stub_calls 'k3s.service')" -eq 0 ]
}

@test "a server token SSM denies fails naming the parameter, and nothing starts" {
  touch "$STUB_DIR/ssm/_k3sctl_clusters_alpha_server-token.denied"
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot read the server token from SSM parameter /k3sctl/clusters/alpha/server-token"* ]]
  [ "$(stub_calls 'k3s.service')" -eq 0 ]
}

@test "control-plane bootstrap records the instance from IMDSv2 and hands over to the server join" {
  imds i-0bbb 'us-east-1b' 10.0.2.20 54.1.2.3
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  run "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$status" -eq 0 ]
  [ "$(stub_calls 'latest/api/token')" -eq 1 ]
  grep -qx 'K3SCTL_PUBLIC_IP=54.1.2.3' "$K3SCTL_ROOT/var/lib/k3sctl/instance.env"
  grep -qx 'K3SCTL_JOIN_MODE=init' "$K3SCTL_ROOT/var/lib/k3sctl/join.env"
  [ "$(stat -c %a "$K3SCTL_ROOT/var/lib/k3sctl/server-token")" = 600 ]
  [ "$(cat "$K3SCTL_ROOT/var/lib/k3sctl/server-token")" = "$TOKEN_SERVER" ]
  assert_no_token_leak
}
