#!/usr/bin/env bats
# The user data is the same for every OS image k3sctl offers (src/config: OS_ALIASES); the bootstrap
# tells them apart by /etc/os-release. Amazon Linux 2023 ships the AWS CLI v2; Ubuntu 24.04 does not,
# so the bootstrap installs the aws-cli snap (published by AWS) before the first AWS call.
load helpers

setup() {
  setup_instance
  write_config control-plane
  imds i-0bbb 'us-east-1b' 10.0.2.20
  control_planes "2026-01-01T10:00:00+00:00 i-0bbb 10.0.2.20"
  healthy_systemctl
}

bootstrap() { run "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"; }
# snap stub: `snap install aws-cli` fails FAILS times, then puts an aws command into the snap bin dir.
snap_installs_aws_cli() {
  export STUBS
  printf '%s' "${1:-0}" >"$STUB_DIR/snap-failures"
  stub_handler snap '
[[ $1 == install ]] || exit 0
left=$(cat "$STUB_DIR/snap-failures")
if ((left > 0)); then echo $((left - 1)) >"$STUB_DIR/snap-failures"; echo "error: cannot install \"aws-cli\": persistent network error" >&2; exit 1; fi
mkdir -p "$K3SCTL_SNAP_BIN" && ln -sf "$STUBS/stub" "$K3SCTL_SNAP_BIN/aws"'
}

@test "bootstrap on al2023: the image's AWS CLI is used as is, nothing is installed" {
  os_release al2023
  bootstrap
  [ "$status" -eq 0 ]
  [ "$(stub_calls '^snap ')" -eq 0 ]
  [[ "$output" == *"using $BATS_TEST_TMPDIR/bin/aws"* ]]
  grep -qx 'K3SCTL_JOIN_MODE=init' "$K3SCTL_ROOT/var/lib/k3sctl/join.env"
  assert_no_token_leak
}

@test "bootstrap on ubuntu-24.04: no AWS CLI, so the aws-cli snap is installed (retried) before the first AWS call" {
  os_release ubuntu-24.04
  without_aws
  snap_installs_aws_cli 1
  bootstrap
  [ "$status" -eq 0 ]
  [[ "$output" == *"no AWS CLI on this image (ubuntu): installing the AWS CLI v2 snap (aws-cli, published by AWS)"* ]]
  grep -qx 'snap wait system seed.loaded' "$STUB_LOG"
  [ "$(stub_calls '^snap install aws-cli --classic$')" -eq 2 ]
  install=$(line_of '^snap install aws-cli --classic$')
  first_aws=$(line_of '^aws ')
  [ "$first_aws" -gt "$install" ]
  [[ "$output" == *"using $K3SCTL_SNAP_BIN/aws"* ]]
  grep -qx 'K3SCTL_JOIN_MODE=init' "$K3SCTL_ROOT/var/lib/k3sctl/join.env"
  assert_no_token_leak
}

@test "bootstrap on ubuntu-24.04 whose snap install fails for good: fails loudly on the console (no AWS CLI to report with)" {
  os_release ubuntu-24.04
  without_aws
  snap_installs_aws_cli 99
  bootstrap
  [ "$status" -eq 1 ]
  [[ "$output" == *"the AWS CLI v2 is missing and could not be installed"* ]]
  grep -q 'bootstrap of i-0bbb failed: k3sctl-bootstrap: the AWS CLI v2 is missing and could not be installed' "$K3SCTL_CONSOLE"
  grep -q 'cannot report the failure to AWS (i-0bbb, no AWS CLI): this console output is the only record' "$K3SCTL_CONSOLE"
  [ "$(stub_calls '^aws ')" -eq 0 ]
  [ "$(stub_calls 'k3s.service')" -eq 1 ] # the failure path's disable only
  [ -s "$K3SCTL_ROOT/var/lib/k3sctl/bootstrap-failed" ]
}

@test "bootstrap on an unknown OS without an AWS CLI fails naming the OS" {
  printf 'ID=plan9\n' >"$K3SCTL_ROOT/etc/os-release"
  without_aws
  bootstrap
  [ "$status" -eq 1 ]
  [[ "$output" == *"no AWS CLI on this image (plan9) and no known way to install it"* ]]
  [ "$(stub_calls '^snap ')" -eq 0 ]
}

@test "a node bootstrap on ubuntu-24.04 installs the AWS CLI too, and the agent path finds it" {
  write_config node
  os_release ubuntu-24.04
  without_aws
  snap_installs_aws_cli 0
  bootstrap
  [ "$status" -eq 0 ]
  grep -q '^aws --region us-east-1 ssm get-parameter --name /k3sctl/clusters/alpha/agent-token' "$STUB_LOG"
  # the discovery (ExecStartPre, systemd's PATH without /snap/bin) finds the snap's aws too
  healthy 10.0.2.20
  PATH="$BATS_TEST_TMPDIR/bin:$BATS_TEST_TMPDIR/sys-bin" run "$REPO_ROOT/userdata/bin/k3sctl-discover-control-plane"
  [ "$status" -eq 0 ]
  grep -qx '10.0.2.20 control-plane.cluster.local' "$K3SCTL_ROOT/etc/hosts"
}
