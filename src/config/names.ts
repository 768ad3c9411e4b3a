// Naming rules: cluster and group names are DNS labels short enough for every derived AWS name
// (target groups and ALBs: 32 characters, src/aws/names.ts), and never contain `--`, the service/cluster
// delimiter of the automatic ingress host names.
import { UserError } from '../core/errors';

export const MAX_CLUSTER_NAME = 20;
export const MAX_GROUP_NAME = 20;
const LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

function checkLabel(kind: string, field: string, value: string, max: number): void {
  if (!LABEL.test(value)) {
    throw new UserError(
      `${field} '${value}' is not a valid ${kind} name: use lowercase letters, digits and '-', starting with a letter and not ending with '-'`,
      undefined,
      field,
    );
  }
  if (value.includes('--')) {
    throw new UserError(`${field} '${value}' is not a valid ${kind} name: it may not contain '--' (it separates service and cluster in ingress host names)`, undefined, field);
  }
  if (value.length > max) {
    throw new UserError(`${field} '${value}' is not a valid ${kind} name: it is ${value.length} characters; at most ${max} are allowed`, undefined, field);
  }
}

export function validateClusterName(name: string, field = 'name'): void {
  checkLabel('cluster', field, name, MAX_CLUSTER_NAME);
}

export function validateGroupName(name: string, field = 'group'): void {
  checkLabel('group', field, name, MAX_GROUP_NAME);
}

/** Service names of shared endpoints: a DNS label without `--`. */
export function validateServiceName(name: string, field = 'service'): void {
  checkLabel('service', field, name, 63);
}
