#!/usr/bin/env bats
# Control-plane join: the atomic election claim, join, rejoin, never a second --cluster-init, the
# leave path enabled first, bounded k3s starts and the failure report of a bootstrap that gives up.
load helpers

setup() {
  setup_instance
  write_config control-plane
  instance_env i-0bbb 'us-east-1b' 10.0.2.20 54.1.2.3
  # Starting k3s.service makes the local server answer /ping.
  healthy_systemctl
}

join() { run "$REPO_ROOT/userdata/bin/k3sctl-server-join"; }
join_env() { cat "$K3SCTL_ROOT/var/lib/k3sctl/join.env"; }
initialized_value() { cat "$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized" 2>/dev/null; }
# initialized VALUE [VERSION]: the parameter as SSM holds it.
initialized() {
  printf '%s' "$1" >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized"
  printf '%s' "${2:-1}" >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized.version"
}
instance_states() { printf '%s\n' "$@" | tr ' ' '\t' >"$STUB_DIR/aws/instance-states.txt"; }
server_argv() {
  run "$REPO_ROOT/userdata/bin/k3sctl-k3s-exec" server
  [ "$status" -eq 0 ]
  grep '^k3s server' "$STUB_LOG" | tail -n 1
}
assert_failure_reported() { # assert_failure_reported REASON-SUBSTRING
  [[ "$(failure_reason i-0bbb)" == *"$1"* ]]
  grep -qE '^aws --region us-east-1 ssm put-parameter --name /k3sctl/clusters/alpha/bootstrap-failures/i-0bbb --type String --overwrite --value ' "$STUB_LOG"
  grep -qx 'aws --region us-east-1 autoscaling set-instance-health --instance-id i-0bbb --health-status Unhealthy --no-should-respect-grace-period' "$STUB_LOG"
  grep -q '^systemctl disable --now --no-block k3s.service' "$STUB_LOG"
  grep -qF "$1" "$K3SCTL_CONSOLE"
  [ -s "$K3SCTL_ROOT/var/lib/k3sctl/bootstrap-failed" ]
}

@test "first server claims the initialized parameter atomically (no --overwrite) BEFORE --cluster-init, then records it" {
  control_planes "2026-01-01T10:00:05+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_MODE=init' <<<"$(join_env)"
  [[ "$output" == *"won the claim: /k3sctl/clusters/alpha/initialized version 1 is 'claimed-by=i-0bbb at="* ]]
  claim=$(line_of '^aws .*ssm put-parameter --name /k3sctl/clusters/alpha/initialized --type String --value claimed-by=i-0bbb at=')
  start=$(line_of '^systemctl start --no-block k3s.service')
  [ "$claim" -gt 0 ]
  [ "$start" -gt "$claim" ]
  # the claim is the only write without --overwrite; the record after /ping overwrites the claim
  [ "$(stub_calls 'ssm put-parameter --name /k3sctl/clusters/alpha/initialized .*--overwrite --value claimed-by')" -eq 0 ]
  [[ "$(initialized_value)" == initialized-by=i-0bbb* ]]
  [ "$(line_of 'initialized --type String --overwrite --value initialized-by=i-0bbb')" -gt "$start" ]
  [ "$(stub_calls '^systemctl enable k3s.service')" -eq 1 ]
  [ "$(stub_calls '^systemctl enable --now k3sctl-leave-handler.timer')" -eq 1 ]
  # The k3s command line the unit runs:
  line=$(server_argv)
  [[ "$line" == *"--cluster-init"* ]]
  [[ "$line" != *"--server "* ]]
  [[ "$line" == *"--tls-san control-plane.cluster.local"* ]]
  [[ "$line" == *"--tls-san 54.1.2.3"* ]]
  [[ "$line" == *"--tls-san api.alpha.example.com"* ]]
  [[ "$line" == *"--node-label topology.kubernetes.io/zone=us-east-1b"* ]]
  [[ "$line" == *"--node-label k3sctl.io/instance-id=i-0bbb"* ]]
  [[ "$line" == *"--token-file $K3SCTL_ROOT/var/lib/k3sctl/server-token"* ]]
  [[ "$line" == *"--agent-token-file $K3SCTL_ROOT/var/lib/k3sctl/agent-token"* ]]
  [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
  [ ! -e pwned ]
  assert_no_token_leak
}

@test "servers advertise the PRIVATE IP to the kubernetes Service; the public IP is only a TLS SAN" {
  printf 'K3SCTL_JOIN_MODE=init\nK3SCTL_JOIN_URL=\n' >"$K3SCTL_ROOT/var/lib/k3sctl/join.env"
  line=$(server_argv)
  [[ "$line" == *"--advertise-address 10.0.2.20"* ]]
  [[ "$line" == *"--node-ip 10.0.2.20"* ]]
  [[ "$line" == *"--tls-san 54.1.2.3"* ]]
  [[ "$line" != *"--node-external-ip"* ]]
  [ "$(grep -o -- '54\.1\.2\.3' <<<"$line" | wc -l)" -eq 1 ]
}

@test "a lost claim (ParameterAlreadyExists) never initialises: it waits for the live claimer, then joins it" {
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  instance_states "i-0aaa running" "i-0bbb running"
  # i-0aaa creates the parameter between this instance's read and its write.
  stub_handler aws '
if [[ "$*" == *"ssm put-parameter"*"--value claimed-by=i-0bbb"* && "$*" != *--overwrite* ]]; then
  printf "claimed-by=i-0aaa at=2026-01-01T10:00:01Z" >"$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized"
fi
exec "$STUBS/aws-fixtures" "$@"'
  export STUBS
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"another control plane claimed the initialisation of cluster alpha first (ParameterAlreadyExists)"* ]]
  [[ "$output" == *"waiting for i-0aaa, which claimed the initialisation"* ]]
  [[ "$output" == *"waited for i-0aaa, which claimed the initialisation"* ]]
  [ "$(stub_calls 'k3s.service')" -eq 1 ] # only the failure path's disable
  [ "$(stub_calls 'start --no-block k3s.service')" -eq 0 ]
  [ ! -e "$K3SCTL_ROOT/var/lib/k3sctl/join.env" ]
  [[ "$(initialized_value)" == claimed-by=i-0aaa* ]]
  # once the claimer answers, the loser joins it
  healthy 10.0.1.10
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_MODE=join' <<<"$(join_env)"
  grep -qx 'K3SCTL_JOIN_URL=https://10.0.1.10:6443' <<<"$(join_env)"
  [[ "$(server_argv)" != *"--cluster-init"* ]]
}

@test "a claim left by a terminated instance is taken over with --overwrite only as the next version" {
  initialized 'claimed-by=i-0dead at=2026-01-01T09:00:00Z' 3
  control_planes "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  instance_states "i-0dead terminated"
  join
  [ "$status" -eq 0 ]
  [[ "$output" == *"the claim of i-0dead (claimed-by=i-0dead at=2026-01-01T09:00:00Z) is stale"* ]]
  [[ "$output" == *"won the claim: /k3sctl/clusters/alpha/initialized version 4"* ]]
  grep -q 'ec2 describe-instances --instance-ids i-0dead' "$STUB_LOG"
  grep -qx 'K3SCTL_JOIN_MODE=init' <<<"$(join_env)"
}

@test "a takeover that another instance overwrote first (not the next version) loses and never initialises" {
  initialized 'claimed-by=i-0dead at=2026-01-01T09:00:00Z' 3
  control_planes "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20" "2026-01-01T10:05:00+00:00 i-0ccc 10.0.3.30"
  instance_states "i-0dead terminated" "i-0ccc running"
  # i-0ccc overwrites version 3 just before this instance does.
  stub_handler aws '
f="$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized"
if [[ "$*" == *"ssm put-parameter"*"--overwrite --value claimed-by=i-0bbb"* && ! -e "$STUB_DIR/raced" ]]; then
  touch "$STUB_DIR/raced"
  printf "claimed-by=i-0ccc at=2026-01-01T10:06:00Z" >"$f"
  printf 4 >"$f.version"
fi
exec "$STUBS/aws-fixtures" "$@"'
  export STUBS
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"another control plane overwrote /k3sctl/clusters/alpha/initialized version 3 first (this write became version 5)"* ]]
  [ "$(stub_calls 'start --no-block k3s.service')" -eq 0 ]
  [ ! -e "$K3SCTL_ROOT/var/lib/k3sctl/join.env" ]
  # the loser's value is in the parameter but it is not its claim (it dropped its claim record)
  [[ "$(initialized_value)" == claimed-by=i-0bbb* ]]
  [ ! -e "$K3SCTL_ROOT/var/lib/k3sctl/claim" ]
}

@test "a claim by a live instance is never taken over; a claim this instance holds (a re-run) initialises" {
  initialized 'claimed-by=i-0aaa at=2026-01-01T10:00:00Z' 1
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  instance_states "i-0aaa running"
  join
  [ "$status" -eq 1 ]
  [ "$(stub_calls 'ssm put-parameter --name /k3sctl/clusters/alpha/initialized')" -eq 0 ]
  [ "$(stub_calls 'start --no-block k3s.service')" -eq 0 ]
  # this instance's own claim, recorded before a crash:
  rm -f "$K3SCTL_ROOT/var/lib/k3sctl/bootstrap-failed"
  initialized 'claimed-by=i-0bbb at=2026-01-01T10:05:00Z' 2
  printf 'claimed-by=i-0bbb at=2026-01-01T10:05:00Z\n' >"$K3SCTL_ROOT/var/lib/k3sctl/claim"
  join
  [ "$status" -eq 0 ]
  [[ "$output" == *"this instance holds the claim"* ]]
  grep -qx 'K3SCTL_JOIN_MODE=init' <<<"$(join_env)"
}

@test "a legacy 'false' initialized parameter is claimed with the version check" {
  initialized false 1
  control_planes "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 0 ]
  [[ "$output" == *"is 'false' (neither claimed nor initialised): claiming it"* ]]
  grep -qx 'K3SCTL_JOIN_MODE=init' <<<"$(join_env)"
  [[ "$(initialized_value)" == initialized-by=i-0bbb* ]]
}

@test "second server joins the healthy one and never initialises" {
  initialized 'initialized-by=i-0aaa'
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  healthy 10.0.1.10
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_MODE=join' <<<"$(join_env)"
  grep -qx 'K3SCTL_JOIN_URL=https://10.0.1.10:6443' <<<"$(join_env)"
  [ "$(stub_calls 'ssm put-parameter')" -eq 0 ]
  line=$(server_argv)
  [[ "$line" == *"--server https://10.0.1.10:6443"* ]]
  [[ "$line" == *"--advertise-address 10.0.2.20"* ]]
  [[ "$line" != *"--cluster-init"* ]]
  assert_no_token_leak
}

@test "a healthy server is joined without any claim" {
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20" "2026-01-01T10:05:00+00:00 i-0ccc 10.0.3.30"
  healthy 10.0.3.30
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_MODE=join' <<<"$(join_env)"
  [ "$(stub_calls 'value claimed-by')" -eq 0 ]
  # a joiner records the cluster as initialised when nobody did
  [[ "$(initialized_value)" == initialized-by=i-0bbb* ]]
}

@test "a restarted former member (existing etcd data) rejoins without --cluster-init" {
  initialized 'initialized-by=i-0aaa'
  mkdir -p "$K3SCTL_ROOT/var/lib/rancher/k3s/server/db/etcd"
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20" "2026-01-01T10:05:00+00:00 i-0ccc 10.0.3.30"
  join
  [ "$status" -eq 0 ]
  [[ "$output" == *"rejoining as a former member"* ]]
  grep -qx 'K3SCTL_JOIN_MODE=member' <<<"$(join_env)"
  [[ "$(server_argv)" != *"--cluster-init"* ]]
  # With a healthy peer it rejoins through it.
  healthy 10.0.3.30
  join
  [ "$status" -eq 0 ]
  grep -qx 'K3SCTL_JOIN_URL=https://10.0.3.30:6443' <<<"$(join_env)"
}

@test "the leave-handler timer is enabled before anything can fail, and a k3s start that fails is retried" {
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  # the first start of k3s.service never answers; the restart does
  stub_handler systemctl '[[ "$*" == "restart --no-block k3s.service" ]] && touch "$STUB_DIR/healthy/127.0.0.1"; exit 0'
  join
  [ "$status" -eq 0 ]
  timer=$(line_of '^systemctl enable --now k3sctl-leave-handler.timer')
  [ "$timer" -gt 0 ]
  [ "$timer" -lt "$(line_of 'ssm get-parameter')" ]
  [ "$timer" -lt "$(line_of 'k3s.service')" ]
  [[ "$output" == *"restarting k3s.service in 0s (start 2/2"* ]]
  [ "$(stub_calls '^systemctl start --no-block k3s.service')" -eq 1 ]
  [ "$(stub_calls '^systemctl restart --no-block k3s.service')" -eq 1 ]
  grep -qx 'K3SCTL_JOIN_MODE=init' <<<"$(join_env)"
}

@test "k3s that never gets healthy: bounded starts, then k3s is stopped, the reason recorded in SSM and the instance marked Unhealthy" {
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  stub_handler systemctl 'exit 0'
  join
  [ "$status" -eq 1 ]
  [ "$(stub_calls '^systemctl (start|restart) --no-block k3s.service')" -eq 2 ]
  assert_failure_reported "k3s server (init) did not become healthy after 2 starts"
  # one line, no secret, at most 1000 characters
  [ "$(failure_reason i-0bbb | wc -l)" -eq 0 ]
  [ "$(failure_reason i-0bbb | wc -c)" -le 1000 ]
  [[ "$(failure_reason i-0bbb)" == "k3sctl-server-join: "* ]]
  # the leave path stays enabled
  [ "$(stub_calls 'disable.*k3sctl-leave-handler')" -eq 0 ]
  [ "$(line_of 'enable --now k3sctl-leave-handler.timer')" -lt "$(line_of 'k3s.service')" ]
  assert_no_token_leak
}

@test "initialized recorded and no healthy server: never --cluster-init, fails loudly and reports it" {
  initialized 'initialized-by=i-0old at=2026-01-01T00:00:00Z'
  # This instance is the earliest running control plane (the original first server was replaced).
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20" "2026-01-01T10:05:00+00:00 i-0ccc 10.0.3.30"
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"already initialised"* ]]
  [[ "$output" == *"refusing to --cluster-init a second, empty cluster"* ]]
  [ "$(stub_calls 'start --no-block k3s.service')" -eq 0 ]
  [ "$(stub_calls 'ssm put-parameter --name /k3sctl/clusters/alpha/initialized')" -eq 0 ]
  [ ! -e "$K3SCTL_ROOT/var/lib/k3sctl/join.env" ]
  assert_failure_reported "refusing to --cluster-init a second, empty cluster"
}

@test "an unreadable initialized parameter is never taken as 'not initialised'" {
  touch "$STUB_DIR/ssm/_k3sctl_clusters_alpha_initialized.denied"
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot read /k3sctl/clusters/alpha/initialized"* ]]
  [[ "$output" == *"not initialising while /k3sctl/clusters/alpha/initialized is unknown"* ]]
  [ "$(stub_calls 'start --no-block k3s.service')" -eq 0 ]
  [ "$(stub_calls 'ssm put-parameter --name /k3sctl/clusters/alpha/initialized')" -eq 0 ]
}

@test "a server token SSM denies fails naming the parameter, nothing starts, and the failure is reported" {
  touch "$STUB_DIR/ssm/_k3sctl_clusters_alpha_server-token.denied"
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  join
  [ "$status" -eq 1 ]
  [[ "$output" == *"cannot read the server token from SSM parameter /k3sctl/clusters/alpha/server-token"* ]]
  [ "$(stub_calls 'start --no-block k3s.service')" -eq 0 ]
  assert_failure_reported "cannot read the server token from SSM parameter /k3sctl/clusters/alpha/server-token"
  grep -q '^systemctl enable --now k3sctl-leave-handler.timer' "$STUB_LOG"
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
