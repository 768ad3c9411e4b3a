#!/usr/bin/env bats
# Nodes: bootstrap, control-plane discovery into /etc/hosts, the agent command line.
load helpers

setup() {
  setup_instance
  write_config node
  imds i-0node 'us-east-1c' 10.0.5.50
  # Starting k3s-agent.service makes the local kubelet answer its healthz.
  healthy_systemctl
}

discover() { run "$REPO_ROOT/userdata/bin/k3sctl-discover-control-plane"; }
entries() { grep -c 'control-plane.cluster.local' "$K3SCTL_ROOT/etc/hosts"; }

@test "discovery replaces an existing hosts entry with one line, idempotently" {
  printf '127.0.0.1 localhost\n10.9.9.9 control-plane.cluster.local\n10.0.0.1 other.example\n' >"$K3SCTL_ROOT/etc/hosts"
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  healthy 10.0.2.20
  discover
  [ "$status" -eq 0 ]
  [ "$(entries)" -eq 1 ]
  grep -qx '10.0.2.20 control-plane.cluster.local' "$K3SCTL_ROOT/etc/hosts"
  grep -qx '10.0.0.1 other.example' "$K3SCTL_ROOT/etc/hosts"
  grep -qx '127.0.0.1 localhost' "$K3SCTL_ROOT/etc/hosts"
  [[ "$output" == *"i-0aaa (10.0.1.10) does not answer"* ]]
  before=$(cat "$K3SCTL_ROOT/etc/hosts")
  discover
  [ "$status" -eq 0 ]
  [ "$(entries)" -eq 1 ]
  [ "$before" == "$(cat "$K3SCTL_ROOT/etc/hosts")" ]
}

@test "discovery keeps the current entry while that control plane stays healthy" {
  printf '10.0.2.20 control-plane.cluster.local\n' >>"$K3SCTL_ROOT/etc/hosts"
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:05:00+00:00 i-0bbb 10.0.2.20"
  healthy 10.0.1.10 10.0.2.20
  discover
  [ "$status" -eq 0 ]
  grep -qx '10.0.2.20 control-plane.cluster.local' "$K3SCTL_ROOT/etc/hosts"
  [ "$(entries)" -eq 1 ]
}

@test "discovery requires a health answer, not just a running instance, and fails after bounded retries" {
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10"
  discover
  [ "$status" -eq 1 ]
  [[ "$output" == *"waiting for a healthy control plane of cluster alpha (attempt 1/2"* ]]
  [[ "$output" == *"no healthy control plane of cluster alpha found"* ]]
  [ "$(entries)" -eq 0 ]
  # The EC2 query is scoped by the cluster's tags and running state.
  grep -q 'Name=tag:k3sctl.io/cluster,Values=alpha Name=tag:k3sctl.io/role,Values=control-plane Name=instance-state-name,Values=running' "$STUB_LOG"
}

@test "node bootstrap uses IMDSv2, reads only the agent token, and starts the agent" {
  run "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$status" -eq 0 ]
  grep -q 'curl .*-X PUT http://169.254.169.254/latest/api/token' "$STUB_LOG"
  # every metadata read carried the session token (the stub refuses reads without it)
  [ "$(stub_calls '^curl .*meta-data/' )" -eq "$(stub_calls '^curl .*X-aws-ec2-metadata-token: imds-session-token.*meta-data/')" ]
  [ "$(stub_calls 'ssm get-parameter --name /k3sctl/clusters/alpha/agent-token --with-decryption')" -eq 1 ]
  [ "$(stub_calls 'server-token')" -eq 0 ]
  [ "$(stub_calls '^systemctl enable k3s-agent.service')" -eq 1 ]
  [ "$(stub_calls '^systemctl start --no-block k3s-agent.service')" -eq 1 ]
  grep -q '^curl .*http://127.0.0.1:10248/healthz' "$STUB_LOG"
  [[ "$output" == *"k3s agent started and joined"* ]]
  [ "$(stat -c %a "$K3SCTL_ROOT/var/lib/k3sctl/agent-token")" = 600 ]
  grep -qx 'K3SCTL_ZONE=us-east-1c' "$K3SCTL_ROOT/var/lib/k3sctl/instance.env"
  grep -qx "K3SCTL_PUBLIC_IP=''" "$K3SCTL_ROOT/var/lib/k3sctl/instance.env"
  assert_no_token_leak
  # re-running (cloud-init or by hand) is harmless
  run "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$status" -eq 0 ]
}

@test "agent command line: server by hosts name, token file, zone label, labels, taints, inert extra args" {
  instance_env i-0node 'us-east-1c' 10.0.5.50
  printf 'the agent token' >"$K3SCTL_ROOT/var/lib/k3sctl/agent-token"
  rm -f "$STUB_DIR/k3s.handler" # a symlink to the shared stub: never write through it
  printf '#!/bin/bash\nprintf "%%s\\n" "$@" >"$STUB_DIR/k3s.argv"\n' >"$STUB_DIR/k3s.handler"
  chmod +x "$STUB_DIR/k3s.handler"
  run "$REPO_ROOT/userdata/bin/k3sctl-k3s-exec" agent
  [ "$status" -eq 0 ]
  argv=$(cat "$STUB_DIR/k3s.argv")
  [ "$(head -1 <<<"$argv")" = agent ]
  grep -qx -- '--server' <<<"$argv"
  grep -qx 'https://control-plane.cluster.local:6443' <<<"$argv"
  grep -qx "$K3SCTL_ROOT/var/lib/k3sctl/agent-token" <<<"$argv"
  grep -qx 'topology.kubernetes.io/zone=us-east-1c' <<<"$argv"
  grep -qx 'k3sctl.io/instance-id=i-0node' <<<"$argv"
  grep -qx 'tier=web' <<<"$argv"
  grep -qx 'dedicated=web:NoSchedule' <<<"$argv"
  # an extra argument with a space and $(...) arrives as one untouched argv element
  grep -qxF -- '--kube-apiserver-arg=audit-log-maxage=3 $(touch pwned)' <<<"$argv"
  [ ! -e pwned ]
  [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
  ! grep -q -- '--node-external-ip' <<<"$argv" || false
  ! grep -q -- '--advertise-address' <<<"$argv" || false
}

@test "an agent with a public IP gets it as --node-external-ip (agents only; servers advertise the private IP)" {
  instance_env i-0node 'us-east-1c' 10.0.5.50 54.9.9.9
  printf 'the agent token' >"$K3SCTL_ROOT/var/lib/k3sctl/agent-token"
  run "$REPO_ROOT/userdata/bin/k3sctl-k3s-exec" agent
  [ "$status" -eq 0 ]
  line=$(grep '^k3s agent' "$STUB_LOG")
  [[ "$line" == *"--node-external-ip 54.9.9.9"* ]]
  [[ "$line" == *"--node-ip 10.0.5.50"* ]]
}

@test "an agent that never joins: bounded starts, then the agent is stopped, the reason recorded in SSM and the node marked Unhealthy" {
  stub_handler systemctl 'exit 0' # the kubelet never answers
  run "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$status" -eq 1 ]
  [ "$(stub_calls '^systemctl (start|restart) --no-block k3s-agent.service')" -eq 2 ]
  [[ "$(failure_reason i-0node)" == "k3sctl-bootstrap: the k3s agent did not join a control plane of cluster alpha after 2 starts"* ]]
  grep -qx 'aws --region us-east-1 autoscaling set-instance-health --instance-id i-0node --health-status Unhealthy --no-should-respect-grace-period' "$STUB_LOG"
  grep -q '^systemctl disable --now --no-block k3s-agent.service' "$STUB_LOG"
  grep -q 'the k3s agent did not join' "$K3SCTL_CONSOLE"
  assert_no_token_leak
}

@test "a node whose agent token cannot be read reports the failure and never starts the agent" {
  touch "$STUB_DIR/ssm/_k3sctl_clusters_alpha_agent-token.denied"
  run "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$status" -eq 1 ]
  [[ "$(failure_reason i-0node)" == *"cannot read the agent token from SSM parameter /k3sctl/clusters/alpha/agent-token"* ]]
  grep -q 'autoscaling set-instance-health --instance-id i-0node --health-status Unhealthy' "$STUB_LOG"
  [ "$(stub_calls 'start --no-block k3s-agent.service')" -eq 0 ]
}

@test "install_k3s downloads the release binary and verifies its checksum" {
  unset INSTALL_K3S_SKIP_DOWNLOAD
  export K3SCTL_ARCH=x86_64 K3SCTL_LOG_NAME=test
  printf 'fake k3s binary\n' >"$STUB_DIR/http/k3s"
  printf '%s  k3s\n%s  k3s-images.txt\n' "$(sha256sum "$STUB_DIR/http/k3s" | cut -d' ' -f1)" 0000 >"$STUB_DIR/http/sha256sum-amd64.txt"
  run bash -c 'source "$K3SCTL_LIB/common.sh"; install_k3s v1.31.4+k3s1'
  [ "$status" -eq 0 ]
  [ -x "$K3SCTL_ROOT/usr/local/bin/k3s" ]
  [ -L "$K3SCTL_ROOT/usr/local/bin/kubectl" ]
  grep -q 'https://github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/sha256sum-amd64.txt' "$STUB_LOG"
}

@test "install_k3s refuses a binary whose checksum does not match" {
  unset INSTALL_K3S_SKIP_DOWNLOAD
  export K3SCTL_ARCH=aarch64 K3SCTL_LOG_NAME=test
  printf 'tampered\n' >"$STUB_DIR/http/k3s-arm64"
  printf '%s  k3s-arm64\n' "$(printf 'original\n' | sha256sum | cut -d' ' -f1)" >"$STUB_DIR/http/sha256sum-arm64.txt"
  run bash -c 'source "$K3SCTL_LIB/common.sh"; install_k3s v1.31.4+k3s1'
  [ "$status" -eq 1 ]
  [[ "$output" == *"checksum mismatch for k3s-arm64 v1.31.4+k3s1"* ]]
  [ ! -e "$K3SCTL_ROOT/usr/local/bin/k3s" ]
}
