// The parts of ARNs k3sctl reads: names of ELB resources, and regions.

/** The name part of a target group ARN (`...:targetgroup/NAME/ID`), or undefined for another ARN. */
export function targetGroupNameOfArn(arn: string): string | undefined {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1];
}

/** The name part of an application load balancer ARN (`...:loadbalancer/app/NAME/ID`), or undefined. */
export function loadBalancerNameOfArn(arn: string): string | undefined {
  return /:loadbalancer\/app\/([^/]+)\//.exec(arn)?.[1];
}

/** The region of an ARN (empty for global services). */
export function arnRegion(arn: string): string {
  return arn.split(':')[3] ?? '';
}
