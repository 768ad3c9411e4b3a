// The tags of a shared endpoint's own resources (listener rule, service target group, SSM config):
// endpoint create writes them, and endpoint describe/weight/delete and cluster delete find by them.
import { TagKeys, sharedTags, type Tag } from '../../aws/tags';

/** Tags of an endpoint's own resources (rule, service target group, SSM config). */
export function endpointTags(service: string): Tag[] {
  return sharedTags('endpoint', service, { [TagKeys.service]: service });
}
