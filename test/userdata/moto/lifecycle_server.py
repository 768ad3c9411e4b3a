"""moto_server for the instance-side bats tests (test/userdata/bats/moto.bats).

Usage: python3 lifecycle_server.py PORT

test/emulator/moto_server.py (the emulator tests' harness, with its workarounds) plus the Auto Scaling
termination lifecycle that moto 5.2.1 lacks entirely, modelled on AWS's documented behaviour so that
k3sctl-leave-handler runs against it with the real AWS CLI:

- TerminateInstanceInAutoScalingGroup of an instance whose group has an autoscaling:EC2_INSTANCE_TERMINATING
  hook puts the instance into Terminating:Wait (it keeps running) instead of terminating it.
- RecordLifecycleActionHeartbeat and CompleteLifecycleAction (LifecycleActionResult CONTINUE or ABANDON)
  need an instance in Terminating:Wait of that group and hook, else ValidationError "No active Lifecycle
  Action found with instance ID ..." as AWS answers. Completing terminates the instance (both results
  terminate on a termination hook) and prints "k3sctl-harness: CompleteLifecycleAction GROUP ID RESULT"
  (and "...RecordLifecycleActionHeartbeat GROUP ID") on stdout for the tests to assert.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the emulator harness
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "emulator"))

import moto_server as emulator_harness  # noqa: E402  (test/emulator/moto_server.py)

TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"


def patch_termination_lifecycle() -> None:
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.models import TerminateInstanceActivity
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import ActionResult, EmptyResult

    def hooks_of(backend, group_name):  # type: ignore[no-untyped-def]
        return [
            h
            for h in backend.lifecycle_hooks.values()
            if h.auto_scaling_group_name == group_name and h.lifecycle_transition == TERMINATING
        ]

    def waiting(response):  # type: ignore[no-untyped-def]
        backend = response.autoscaling_backend
        group_name = response._get_param("AutoScalingGroupName")
        hook_name = response._get_param("LifecycleHookName")
        instance_id = response._get_param("InstanceId")
        group = backend.autoscaling_groups.get(group_name)
        state = None
        if group is not None and any(h.name == hook_name for h in hooks_of(backend, group_name)):
            state = next(
                (s for s in group.instance_states if s.instance.id == instance_id and s.lifecycle_state == "Terminating:Wait"),
                None,
            )
        if state is None:
            raise ValidationError(f"No active Lifecycle Action found with instance ID {instance_id}")
        return backend, group, state

    original_terminate = AutoScalingResponse.terminate_instance_in_auto_scaling_group

    def terminate_instance_in_auto_scaling_group(self):  # type: ignore[no-untyped-def]
        backend = self.autoscaling_backend
        instance_id = self._get_param("InstanceId")
        for group in backend.autoscaling_groups.values():
            for state in group.instance_states:
                if state.instance.id == instance_id and hooks_of(backend, group.name):
                    original_size = group.desired_capacity
                    state.k3sctl_decrement = self._get_bool_param("ShouldDecrementDesiredCapacity", False)
                    state.lifecycle_state = "Terminating:Wait"
                    return ActionResult({"Activity": TerminateInstanceActivity(state.instance, original_size)})
        return original_terminate(self)

    def record_lifecycle_action_heartbeat(self):  # type: ignore[no-untyped-def]
        _, group, state = waiting(self)
        print(f"k3sctl-harness: RecordLifecycleActionHeartbeat {group.name} {state.instance.id}", flush=True)
        return EmptyResult()

    def complete_lifecycle_action(self):  # type: ignore[no-untyped-def]
        backend, group, state = waiting(self)
        result = self._get_param("LifecycleActionResult")
        if result not in ("CONTINUE", "ABANDON"):
            raise ValidationError("LifecycleActionResult must be CONTINUE or ABANDON")
        print(f"k3sctl-harness: CompleteLifecycleAction {group.name} {state.instance.id} {result}", flush=True)
        backend.terminate_instance(state.instance.id, getattr(state, "k3sctl_decrement", False))
        return EmptyResult()

    AutoScalingResponse.terminate_instance_in_auto_scaling_group = terminate_instance_in_auto_scaling_group
    AutoScalingResponse.record_lifecycle_action_heartbeat = record_lifecycle_action_heartbeat
    AutoScalingResponse.complete_lifecycle_action = complete_lifecycle_action


def main() -> None:
    patch_termination_lifecycle()
    emulator_harness.main()


if __name__ == "__main__":
    main()
