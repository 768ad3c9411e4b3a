// The local input of `k3sctl kubeconfig`, checked before any AWS call (exit 2 naming the flag): the
// cluster name, ids and names of a documented shape, and the local files it will read (the SSH key,
// known_hosts). The kubeconfig it will write is checked by merge.ts checkKubeconfigTarget().
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../core/errors';
import { validateEc2Id } from '../config/formats';
import { validateClusterName } from '../config/names';
import { readKnownHosts } from './knownHosts';
import { parseBastion } from './ssh';

export interface KubeconfigInput {
  cluster: string;
  instanceId?: string;
  context?: string;
  user?: string;
  remotePath: string;
  bastion?: string;
  /** The SSH key file as given. */
  identity?: string;
  /** The known_hosts file that will be read (resolved). */
  knownHosts: string;
}

/** Throws a UserError naming the first bad input; `named` gives a flag as the user typed it. */
export function checkKubeconfigInput(input: KubeconfigInput, named: (flag: string) => string): void {
  validateClusterName(input.cluster, 'CLUSTER');
  if (input.instanceId !== undefined) validateEc2Id(input.instanceId, 'i', named('--instance-id'));
  if (input.context !== undefined && !/^\S+$/.test(input.context)) {
    throw new UserError(`--context '${input.context}' is not a context name (no spaces, not empty)`, undefined, '--context');
  }
  if (input.user !== undefined && !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(input.user)) {
    const field = named('--user');
    throw new UserError(`${field} '${input.user}' is not a login name`, 'e.g. ec2-user or ubuntu', field);
  }
  if (!input.remotePath.startsWith('/')) {
    throw new UserError(`--remote-path '${input.remotePath}' is not an absolute path`, undefined, '--remote-path');
  }
  if (input.bastion !== undefined) {
    const field = named('--bastion');
    try {
      parseBastion(input.bastion, 'ec2-user');
    } catch {
      throw new UserError(`${field} '${input.bastion}' is not [user@]host[:port]`, 'for example --bastion ec2-user@bastion.example.com:22', field);
    }
  }
  if (input.identity !== undefined) {
    const field = named('--identity');
    const file = path.resolve(input.identity);
    try {
      if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      fs.accessSync(file, fs.constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UserError(
        `${field} ${input.identity}: cannot read the SSH key (${code === 'ENOENT' ? 'no such file' : code})`,
        'give the private key of the instance key pair',
        field,
      );
    }
  }
  try {
    readKnownHosts(input.knownHosts);
  } catch (error) {
    const field = named('--known-hosts');
    throw new UserError(
      `${field} ${input.knownHosts}: cannot read the known_hosts file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      'give a readable known_hosts file with --known-hosts',
      field,
    );
  }
}
