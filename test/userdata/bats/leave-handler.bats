#!/usr/bin/env bats
# Graceful leave handler on the control planes: leader, drain, lifecycle result, etcd quorum, GC.
load helpers

setup() {
  setup_instance
  write_config control-plane
  instance_env i-0aaa 'us-east-1a' 10.0.1.10
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10" "2026-01-01T10:01:00+00:00 i-0bbb 10.0.2.20" \
    "2026-01-01T10:02:00+00:00 i-0ccc 10.0.3.30"
  healthy 10.0.1.10 10.0.2.20 10.0.3.30
  export K3SCTL_DRAIN_TIMEOUT=0 K3SCTL_DRAIN_CHUNK=1
}

handler() { run "$REPO_ROOT/userdata/bin/k3sctl-leave-handler"; }
# terminating GROUP ROLE IDS: the DescribeAutoScalingGroups rows.
terminating() { printf '%s\t%s\t%s\n' "$@" >>"$STUB_DIR/aws/terminating.txt"; }
node_of() { printf '%s' "$2" >"$STUB_DIR/k8s/by-id/$1"; }
completed_with() { grep -E "^aws .*autoscaling complete-lifecycle-action .*--instance-id $1 --lifecycle-action-result $2\$" "$STUB_LOG"; }

@test "drain success: cordon, drain with bounded options, delete the Node, complete CONTINUE" {
  terminating k3sctl-alpha-main node i-0n01,i-0n02
  terminating k3sctl-alpha-cp control-plane ''
  node_of i-0n01 ip-10-0-5-1
  node_of i-0n02 ip-10-0-5-2
  handler
  [ "$status" -eq 0 ]
  grep -q '^kubectl cordon ip-10-0-5-1' "$STUB_LOG"
  grep -q '^kubectl drain ip-10-0-5-1 --ignore-daemonsets --delete-emptydir-data --force --grace-period=60 --timeout=1s' "$STUB_LOG"
  grep -q '^kubectl delete node ip-10-0-5-1 --ignore-not-found' "$STUB_LOG"
  grep -q 'autoscaling record-lifecycle-action-heartbeat --lifecycle-hook-name k3sctl-graceful-leave --auto-scaling-group-name k3sctl-alpha-main --instance-id i-0n01' "$STUB_LOG"
  completed_with i-0n01 CONTINUE
  completed_with i-0n02 CONTINUE
  grep -q 'complete-lifecycle-action --lifecycle-hook-name k3sctl-graceful-leave --auto-scaling-group-name k3sctl-alpha-main' "$STUB_LOG"
  grep -q 'describe-auto-scaling-groups --filters Name=tag:k3sctl.io/cluster,Values=alpha' "$STUB_LOG"
}

@test "drain timeout: the Node is still deleted and the action completes ABANDON" {
  terminating k3sctl-alpha-main node i-0n01
  node_of i-0n01 ip-10-0-5-1
  printf 1 >"$STUB_DIR/k8s/drain-rc"
  handler
  [ "$status" -eq 0 ]
  [[ "$output" == *"drain of ip-10-0-5-1 did not finish within 0s"* ]]
  grep -q '^kubectl delete node ip-10-0-5-1' "$STUB_LOG"
  completed_with i-0n01 ABANDON
  ! completed_with i-0n01 CONTINUE || false
}

@test "long drains are retried in bounded rounds with a heartbeat before each" {
  terminating k3sctl-alpha-main node i-0n01
  node_of i-0n01 ip-10-0-5-1
  printf 1 >"$STUB_DIR/k8s/drain-rc"
  export K3SCTL_DRAIN_TIMEOUT=2
  handler
  [ "$status" -eq 0 ]
  [ "$(stub_calls '^kubectl drain')" -ge 2 ]
  [ "$(stub_calls 'record-lifecycle-action-heartbeat')" -eq "$(stub_calls '^kubectl drain')" ]
  completed_with i-0n01 ABANDON
}

@test "while one instance drains, every other waiting instance gets heartbeats too" {
  terminating k3sctl-alpha-main node i-0n01,i-0n02
  node_of i-0n01 ip-10-0-5-1
  node_of i-0n02 ip-10-0-5-2
  printf 1 >"$STUB_DIR/k8s/drain-rc"
  handler
  [ "$status" -eq 0 ]
  first_complete=$(grep -n 'complete-lifecycle-action .*i-0n01' "$STUB_LOG" | head -1 | cut -d: -f1)
  head -n "$first_complete" "$STUB_LOG" | grep -q 'record-lifecycle-action-heartbeat .*--instance-id i-0n02'
  # a completed instance gets no more heartbeats
  ! tail -n +"$first_complete" "$STUB_LOG" | grep -q 'record-lifecycle-action-heartbeat .*--instance-id i-0n01' || false
  completed_with i-0n02 ABANDON
}

@test "only the lowest-id healthy control plane acts" {
  instance_env i-0bbb 'us-east-1b' 10.0.2.20
  terminating k3sctl-alpha-main node i-0n01
  node_of i-0n01 ip-10-0-5-1
  handler
  [ "$status" -eq 0 ]
  [[ "$output" == *"i-0aaa (10.0.1.10) handles graceful leaves this round"* ]]
  [ "$(stub_calls 'kubectl|complete-lifecycle-action')" -eq 0 ]
  # ...unless it is unhealthy
  rm "$STUB_DIR/healthy/10.0.1.10"
  handler
  completed_with i-0n01 CONTINUE
}

@test "a Node without the instance-id label is found by the instance's private DNS name" {
  terminating k3sctl-alpha-main node i-0n07
  printf 'ip-10-0-5-7.ec2.internal\n' >"$STUB_DIR/aws/private-dns.txt"
  touch "$STUB_DIR/k8s/nodes/ip-10-0-5-7"
  handler
  [ "$status" -eq 0 ]
  grep -q '^kubectl drain ip-10-0-5-7 ' "$STUB_LOG"
  grep -q '^kubectl delete node ip-10-0-5-7 ' "$STUB_LOG"
  completed_with i-0n07 CONTINUE
}

@test "an instance without a Node completes CONTINUE without draining" {
  terminating k3sctl-alpha-main node i-0n09
  handler
  [ "$status" -eq 0 ]
  [[ "$output" == *"no Node for i-0n09"* ]]
  [ "$(stub_calls '^kubectl drain')" -eq 0 ]
  completed_with i-0n09 CONTINUE
}

@test "control-plane leave: another server drains it and deleting its Node removes the etcd member" {
  terminating k3sctl-alpha-cp control-plane i-0aaa
  instance_env i-0bbb 'us-east-1b' 10.0.2.20
  node_of i-0aaa ip-10-0-1-10
  printf 'ip-10-0-1-10 True\nip-10-0-2-20 True\nip-10-0-3-30 True\n' >"$STUB_DIR/k8s/etcd-members"
  handler
  [ "$status" -eq 0 ]
  [[ "$output" == *"deleting Node ip-10-0-1-10; k3s removes its etcd member"* ]]
  grep -q '^kubectl delete node ip-10-0-1-10 --ignore-not-found --wait=true' "$STUB_LOG"
  completed_with i-0aaa CONTINUE
}

@test "control-plane leave is refused (held with a heartbeat) when it would break etcd quorum" {
  terminating k3sctl-alpha-cp control-plane i-0aaa
  instance_env i-0bbb 'us-east-1b' 10.0.2.20
  node_of i-0aaa ip-10-0-1-10
  printf 'ip-10-0-1-10 True\nip-10-0-2-20 True\nip-10-0-3-30 Unknown\n' >"$STUB_DIR/k8s/etcd-members"
  handler
  [ "$status" -eq 0 ]
  [[ "$output" == *"would break etcd quorum; holding i-0aaa"* ]]
  [ "$(stub_calls '^kubectl delete node')" -eq 0 ]
  [ "$(stub_calls 'complete-lifecycle-action')" -eq 0 ]
  grep -q 'record-lifecycle-action-heartbeat .*--instance-id i-0aaa' "$STUB_LOG"
}

@test "a single control plane leaving itself drains and completes without removing the last member" {
  control_planes "2026-01-01T10:00:00+00:00 i-0aaa 10.0.1.10"
  terminating k3sctl-alpha-cp control-plane i-0aaa
  node_of i-0aaa ip-10-0-1-10
  printf 'ip-10-0-1-10 True\n' >"$STUB_DIR/k8s/etcd-members"
  handler
  [ "$status" -eq 0 ]
  grep -q '^kubectl drain ip-10-0-1-10' "$STUB_LOG"
  [ "$(stub_calls '^kubectl delete node')" -eq 0 ]
  completed_with i-0aaa CONTINUE
}

@test "stale Node objects of terminated instances are deleted; live or Ready ones are kept" {
  printf 'ip-10-0-5-1 i-0dead False\nip-10-0-5-1x i-0dead2 Unknown\nip-10-0-5-2 i-0gone False\nip-10-0-5-3 i-0live True\nip-10-0-5-4 i-0stop Unknown\n' \
    >"$STUB_DIR/k8s/labelled-nodes"
  printf 'i-0dead\tterminated\ni-0dead2\tshutting-down\ni-0live\trunning\ni-0stop\tstopped\n' >"$STUB_DIR/aws/instance-states.txt"
  handler
  [ "$status" -eq 0 ]
  grep -q '^kubectl delete node ip-10-0-5-1 ' "$STUB_LOG"
  grep -q '^kubectl delete node ip-10-0-5-1x ' "$STUB_LOG"
  grep -q '^kubectl delete node ip-10-0-5-2 ' "$STUB_LOG"
  ! grep -q '^kubectl delete node ip-10-0-5-3 ' "$STUB_LOG" || false
  ! grep -q '^kubectl delete node ip-10-0-5-4 ' "$STUB_LOG" || false
  grep -q 'ec2 describe-instances --filters Name=instance-id,Values=i-0dead,i-0dead2,i-0gone,i-0live,i-0stop' "$STUB_LOG"
}

@test "a Ready Node is never garbage-collected even if EC2 does not know its instance" {
  printf 'ip-10-0-5-9 i-0ghost True\n' >"$STUB_DIR/k8s/labelled-nodes"
  handler
  [ "$status" -eq 0 ]
  [[ "$output" == *"Node ip-10-0-5-9 is Ready although instance i-0ghost is gone; not deleting"* ]]
  [ "$(stub_calls '^kubectl delete node')" -eq 0 ]
}

@test "the handler never prints or logs a token" {
  terminating k3sctl-alpha-main node i-0n01
  node_of i-0n01 ip-10-0-5-1
  printf '%s' "$TOKEN_SERVER" >"$K3SCTL_ROOT/var/lib/k3sctl/server-token"
  handler
  [ "$status" -eq 0 ]
  assert_no_token_leak
}

@test "an instance whose bootstrap failed (no etcd data) completes its own lifecycle action when no control plane is healthy" {
  rm -f "$STUB_DIR"/healthy/*
  terminating k3sctl-alpha-cp control-plane i-0aaa
  printf 'k3sctl-server-join: k3s server (init) did not become healthy\n' >"$K3SCTL_ROOT/var/lib/k3sctl/bootstrap-failed"
  handler
  [ "$status" -eq 0 ]
  [[ "$output" == *"its bootstrap failed (k3sctl-server-join: k3s server (init) did not become healthy) and it holds no etcd data"* ]]
  completed_with i-0aaa CONTINUE
  [ "$(stub_calls '^kubectl')" -eq 0 ]
  # without the failure record (or with etcd data) it waits for a healthy control plane as before
  : >"$STUB_LOG"
  rm "$K3SCTL_ROOT/var/lib/k3sctl/bootstrap-failed"
  handler
  [ "$status" -eq 0 ]
  [ "$(stub_calls 'complete-lifecycle-action')" -eq 0 ]
  printf 'failed\n' >"$K3SCTL_ROOT/var/lib/k3sctl/bootstrap-failed"
  mkdir -p "$K3SCTL_ROOT/var/lib/rancher/k3s/server/db/etcd"
  handler
  [ "$status" -eq 0 ]
  [ "$(stub_calls 'complete-lifecycle-action')" -eq 0 ]
}

@test "the leave-handler unit runs without k3s (no Requires=k3s.service), so a failed instance can leave" {
  unit="$REPO_ROOT/userdata/systemd/k3sctl-leave-handler.service"
  ! grep -qE '^(Requires|BindsTo|Requisite)=.*k3s' "$unit" || false
  grep -qx 'ExecStart=/usr/local/bin/k3sctl-leave-handler' "$unit"
}
