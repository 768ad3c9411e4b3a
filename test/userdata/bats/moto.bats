#!/usr/bin/env bats
# The instance scripts against moto with the real AWS CLI v2: the election under a real race, the
# takeover of a dead claim, join, graceful leave with lifecycle actions, the unhealthy path of a
# bootstrap that gives up, and tokens never printed. k3s, kubectl and systemctl are stubs; IMDS is
# the fake of stubs/curl.
load helpers
load moto

setup_file() { start_moto; }
teardown_file() { stop_moto; }
setup() { setup_moto_instance; }

# race_server_join ID...: starts k3sctl-server-join as every ID at once (their claim writes meet at
# a barrier, so they really race) and waits for all.
race_server_join() {
  local id pids=()
  export RACE_BARRIER="$BATS_TEST_TMPDIR/barrier" RACE_PARTIES=$#
  for id in "$@"; do
    as_instance "$id" "$REPO_ROOT/userdata/bin/k3sctl-server-join" &
    pids+=($!)
  done
  for id in "${pids[@]}"; do wait "$id" || true; done
  unset RACE_BARRIER RACE_PARTIES
}

@test "moto: two first servers start together; exactly one claims the parameter (no --overwrite) and runs --cluster-init, the other joins it" {
  cluster cp:control-plane:2
  read -r a ip_a <<<"$(nth_instance cp 1)"
  read -r b ip_b <<<"$(nth_instance cp 2)"
  new_instance "$a" "$ip_a" control-plane
  new_instance "$b" "$ip_b" control-plane
  race_server_join "$a" "$b"
  # both raced for the claim with a create (no --overwrite); one got ParameterAlreadyExists
  for id in "$a" "$b"; do
    grep -qE "^aws --region us-east-1 ssm put-parameter --name /k3sctl/clusters/alpha/initialized --type String --value claimed-by=$id at=" \
      "$(instance_dir "$id")/stub.log"
  done
  modes="$(join_mode "$a") $(join_mode "$b")"
  [[ "$modes" == "init join" || "$modes" == "join init" ]]
  if [[ $(join_mode "$a") == init ]]; then winner=$a loser=$b winner_ip=$ip_a; else winner=$b loser=$a winner_ip=$ip_b; fi
  grep -q "won the claim: /k3sctl/clusters/alpha/initialized version 1 is 'claimed-by=$winner" "$(instance_dir "$winner")/output"
  grep -q 'claimed the initialisation of cluster alpha first (ParameterAlreadyExists)' "$(instance_dir "$loser")/output"
  [ "$(join_url "$loser")" = "https://$winner_ip:6443" ]
  # the parameter in moto, read by another client: the winner recorded the cluster as initialised
  [[ "$(fixture param /k3sctl/clusters/alpha/initialized)" == "initialized-by=$winner at="* ]]
  # exactly one k3s command line has --cluster-init; both advertise their private IP
  line=$(server_argv "$winner")
  [[ "$line" == *"--cluster-init"* && "$line" == *"--advertise-address $winner_ip"* ]]
  line=$(server_argv "$loser")
  [[ "$line" != *"--cluster-init"* ]]
  [[ "$line" == *"--server https://$winner_ip:6443"* ]]
  # the claim came before the k3s start
  claim=$(grep -n 'value claimed-by=' "$(instance_dir "$winner")/stub.log" | head -n 1 | cut -d: -f1)
  start=$(grep -n 'start --no-block k3s.service' "$(instance_dir "$winner")/stub.log" | head -n 1 | cut -d: -f1)
  [ "$claim" -lt "$start" ]
  assert_no_token_in_instances
}

@test "moto: a claim left by a terminated instance is taken over by exactly one of two racing servers" {
  cluster cp:control-plane:3
  read -r dead _ <<<"$(nth_instance cp 1)"
  read -r a ip_a <<<"$(nth_instance cp 2)"
  read -r b ip_b <<<"$(nth_instance cp 3)"
  fixture put-param /k3sctl/clusters/alpha/initialized "claimed-by=$dead at=2026-01-01T00:00:00Z"
  fixture ec2-terminate "$dead"
  new_instance "$a" "$ip_a" control-plane
  new_instance "$b" "$ip_b" control-plane
  race_server_join "$a" "$b"
  for id in "$a" "$b"; do
    grep -q "the claim of $dead .* is stale: EC2 reports $dead terminated or unknown; taking it over" "$(instance_dir "$id")/output"
    grep -qE "ssm put-parameter --name /k3sctl/clusters/alpha/initialized --type String --overwrite --value claimed-by=$id" \
      "$(instance_dir "$id")/stub.log"
  done
  modes="$(join_mode "$a") $(join_mode "$b")"
  [[ "$modes" == "init join" || "$modes" == "join init" ]]
  if [[ $(join_mode "$a") == init ]]; then winner=$a loser=$b; else winner=$b loser=$a; fi
  grep -q "won the claim: /k3sctl/clusters/alpha/initialized version 2 is 'claimed-by=$winner" "$(instance_dir "$winner")/output"
  grep -q 'overwrote /k3sctl/clusters/alpha/initialized version 1 first (this write became version 3)' "$(instance_dir "$loser")/output"
  [[ "$(fixture param /k3sctl/clusters/alpha/initialized)" == "initialized-by=$winner at="* ]]
  assert_no_token_in_instances
}

@test "moto: a new server joins the healthy one found through the cluster's EC2 tags; a node bootstrap joins through /etc/hosts" {
  cluster cp:control-plane:2 main:node:1
  read -r a ip_a <<<"$(nth_instance cp 1)"
  read -r b ip_b <<<"$(nth_instance cp 2)"
  read -r n ip_n <<<"$(nth_instance main 1)"
  fixture put-param /k3sctl/clusters/alpha/initialized "initialized-by=$a at=2026-01-01T00:00:00Z"
  healthy "$ip_a"
  new_instance "$b" "$ip_b" control-plane
  as_instance "$b" "$REPO_ROOT/userdata/bin/k3sctl-server-join"
  [ "$(join_mode "$b")" = join ]
  [ "$(join_url "$b")" = "https://$ip_a:6443" ]
  [ "$(grep -c 'ssm put-parameter' "$(instance_dir "$b")/stub.log")" -eq 0 ]
  [ "$(cat "$(instance_dir "$b")/root/var/lib/k3sctl/server-token")" = "$TOKEN_SERVER" ]
  [ "$(cat "$(instance_dir "$b")/root/var/lib/k3sctl/agent-token")" = "$TOKEN_AGENT" ]
  # a node: the whole bootstrap, IMDSv2 fake, the real CLI for SSM and EC2
  new_instance "$n" "$ip_n" node
  imds "$n" us-east-1a "$ip_n"
  as_instance "$n" "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  grep -q 'k3s agent started and joined' "$(instance_dir "$n")/output"
  [ "$(cat "$(instance_dir "$n")/root/var/lib/k3sctl/agent-token")" = "$TOKEN_AGENT" ]
  [ ! -e "$(instance_dir "$n")/root/var/lib/k3sctl/server-token" ]
  as_instance "$n" "$REPO_ROOT/userdata/bin/k3sctl-discover-control-plane"
  grep -qx "$ip_a control-plane.cluster.local" "$(instance_dir "$n")/root/etc/hosts"
  assert_no_token_in_instances
}

@test "moto: leave: a node in Terminating:Wait is drained, its Node deleted and its lifecycle action completed CONTINUE" {
  cluster cp:control-plane:2 main:node:1
  read -r a ip_a <<<"$(nth_instance cp 1)"
  read -r b ip_b <<<"$(nth_instance cp 2)"
  read -r n _ <<<"$(nth_instance main 1)"
  healthy "$ip_a" "$ip_b"
  printf 'ip-node-1' >"$STUB_DIR/k8s/by-id/$n"
  fixture terminate "$n"
  [ "$(fixture health "$n")" = "Healthy Terminating:Wait" ]
  # the lowest-id healthy control plane acts; the other one stays out
  new_instance "$a" "$ip_a" control-plane
  new_instance "$b" "$ip_b" control-plane
  as_instance "$b" "$REPO_ROOT/userdata/bin/k3sctl-leave-handler"
  grep -q "$a ($ip_a) handles graceful leaves this round" "$(instance_dir "$b")/output"
  as_instance "$a" "$REPO_ROOT/userdata/bin/k3sctl-leave-handler"
  log="$(instance_dir "$a")/stub.log"
  grep -q '^kubectl drain ip-node-1 --ignore-daemonsets' "$log"
  grep -q '^kubectl delete node ip-node-1 --ignore-not-found --wait=true' "$log"
  moto_log_since_setup | grep -q "k3sctl-harness: RecordLifecycleActionHeartbeat k3sctl-alpha-main $n"
  moto_log_since_setup | grep -q "k3sctl-harness: CompleteLifecycleAction k3sctl-alpha-main $n CONTINUE"
  grep -q "completed lifecycle action of $n in k3sctl-alpha-main with CONTINUE" "$(instance_dir "$a")/output"
  ! grep -q 'WARNING' "$(instance_dir "$a")/output" || false
  [ "$(fixture state "$n")" = terminated ]
  [ "$(fixture health "$n")" = gone ]
  # a second round finds nothing to do ("No active Lifecycle Action" is never hit)
  as_instance "$a" "$REPO_ROOT/userdata/bin/k3sctl-leave-handler"
  [ "$(grep -c 'complete-lifecycle-action' "$log")" -eq 1 ]
}

@test "moto: unhealthy path: a first server whose k3s never answers gives up: reason in SSM, Unhealthy in its group, then it leaves by itself" {
  cluster cp:control-plane:1
  read -r a ip_a <<<"$(nth_instance cp 1)"
  new_instance "$a" "$ip_a" control-plane
  imds "$a" us-east-1a "$ip_a"
  stub_handler systemctl 'exit 0' # k3s never answers /ping
  export K3SCTL_START_ATTEMPTS=2 K3SCTL_READY_ATTEMPTS=2
  run as_instance "$a" "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$status" -eq 1 ]
  log="$(instance_dir "$a")/stub.log"
  # the leave path was enabled before the claim and the k3s start
  [ "$(grep -n 'enable --now k3sctl-leave-handler.timer' "$log" | cut -d: -f1)" -lt "$(grep -n 'value claimed-by' "$log" | cut -d: -f1)" ]
  [ "$(grep -cE '^systemctl (start|restart) --no-block k3s.service' "$log")" -eq 2 ]
  grep -q '^systemctl disable --now --no-block k3s.service' "$log"
  reason=$(fixture param "/k3sctl/clusters/alpha/bootstrap-failures/$a")
  [[ "$reason" == "k3sctl-server-join: k3s server (init) did not become healthy after 2 starts"* ]]
  [ "${#reason}" -le 1000 ]
  [ "$(fixture health "$a")" = "Unhealthy InService" ]
  grep -q "bootstrap of $a failed: k3sctl-server-join: k3s server (init) did not become healthy" "$(instance_dir "$a")/console"
  # its claim stays (it names the instance; once it is terminated another server takes it over)
  [[ "$(fixture param /k3sctl/clusters/alpha/initialized)" == "claimed-by=$a at="* ]]
  # the Auto Scaling group terminates it; with no healthy control plane, it completes its own action
  fixture terminate "$a"
  as_instance "$a" "$REPO_ROOT/userdata/bin/k3sctl-leave-handler"
  grep -q 'its bootstrap failed (k3sctl-server-join: k3s server (init) did not become healthy' "$(instance_dir "$a")/output"
  moto_log_since_setup | grep -q "k3sctl-harness: CompleteLifecycleAction k3sctl-alpha-cp $a CONTINUE"
  [ "$(fixture state "$a")" = terminated ]
  assert_no_token_in_instances
}

@test "moto: unhealthy path: a node whose agent never joins gives up: reason in SSM and Unhealthy in its group" {
  cluster main:node:1
  read -r n ip_n <<<"$(nth_instance main 1)"
  new_instance "$n" "$ip_n" node
  imds "$n" us-east-1a "$ip_n"
  stub_handler systemctl 'exit 0' # the kubelet never answers
  export K3SCTL_START_ATTEMPTS=2 K3SCTL_READY_ATTEMPTS=2
  run as_instance "$n" "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$status" -eq 1 ]
  [[ "$(fixture param "/k3sctl/clusters/alpha/bootstrap-failures/$n")" == "k3sctl-bootstrap: the k3s agent did not join a control plane of cluster alpha after 2 starts"* ]]
  [ "$(fixture health "$n")" = "Unhealthy InService" ]
  grep -q '^systemctl disable --now --no-block k3s-agent.service' "$(instance_dir "$n")/stub.log"
  assert_no_token_in_instances
}

@test "moto: tokens reach only their 0600 files: no output, log, console or failure reason holds one" {
  cluster cp:control-plane:1 main:node:1
  read -r a ip_a <<<"$(nth_instance cp 1)"
  read -r n ip_n <<<"$(nth_instance main 1)"
  new_instance "$a" "$ip_a" control-plane
  new_instance "$n" "$ip_n" node
  imds "$a" us-east-1a "$ip_a"
  as_instance "$a" "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  [ "$(join_mode "$a")" = init ]
  imds "$n" us-east-1a "$ip_n"
  as_instance "$n" "$REPO_ROOT/userdata/bin/k3sctl-bootstrap"
  # and a failing bootstrap (its reason goes to SSM and the console)
  stub_handler systemctl 'exit 0'
  rm -f "$(instance_dir "$n")/root/var/lib/k3sctl/agent-token" "$STUB_DIR/healthy/kubelet-$ip_n"
  K3SCTL_START_ATTEMPTS=1 K3SCTL_READY_ATTEMPTS=1 as_instance "$n" "$REPO_ROOT/userdata/bin/k3sctl-bootstrap" || true
  fixture param "/k3sctl/clusters/alpha/bootstrap-failures/$n" >/dev/null || { cat "$(instance_dir "$n")/output"; false; }
  # the values did reach their files, and nowhere else
  [ "$(cat "$(instance_dir "$a")/root/var/lib/k3sctl/server-token")" = "$TOKEN_SERVER" ]
  [ "$(cat "$(instance_dir "$n")/root/var/lib/k3sctl/agent-token")" = "$TOKEN_AGENT" ]
  for id in "$a" "$n"; do [ -s "$(instance_dir "$id")/output" ]; done
  assert_no_token_in_instances
}
