// The local input of `kubeconfig`, checked before any AWS call: the flags of the fetch (cluster,
// instance, context, SSH settings) and where the kubeconfig goes (--print, --write FILE, or merged
// into --kubeconfig, $KUBECONFIG or ~/.kube/config), whose file must be writable.
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeconfigDestination } from '../orchestration/workflows/kubeconfig';

/** The flags of `kubeconfig` this module reads. */
export interface KubeconfigFlagValues {
  'instance-id'?: string;
  context?: string;
  user?: string;
  'remote-path': string;
  bastion?: string;
  identity?: string;
  'known-hosts'?: string;
  print?: boolean;
  write?: string;
  kubeconfig?: string;
  'set-current': boolean;
}

/**
 * Checks the fetch's input and returns where the kubeconfig goes, its file checked too. `asGiven`
 * names a flag as the user typed it; `home` holds the default known_hosts.
 */
export async function kubeconfigDestination(
  cluster: string,
  f: KubeconfigFlagValues,
  home: string,
  asGiven: (flag: string) => string,
): Promise<KubeconfigDestination> {
  const { checkKubeconfigInput } = await import('../kube/preflight');
  checkKubeconfigInput(
    {
      cluster,
      instanceId: f['instance-id'],
      context: f.context,
      user: f.user,
      remotePath: f['remote-path'],
      bastion: f.bastion,
      identity: f.identity,
      knownHosts: f['known-hosts'] ? path.resolve(f['known-hosts']) : path.join(home, 'known_hosts'),
    },
    (flag) => (flag === '--known-hosts' && !f['known-hosts'] ? 'K3SCTL_HOME' : asGiven(flag)),
  );
  const { kubeconfigTargetPath } = await import('../orchestration/workflows/kubeconfig');
  const destination: KubeconfigDestination = f.print
    ? ({ mode: 'print' } as const)
    : f.write
      ? ({ mode: 'write', file: path.resolve(f.write), field: asGiven('--write') } as const)
      : ({
          mode: 'merge',
          file: f.kubeconfig
            ? path.resolve(f.kubeconfig)
            : kubeconfigTargetPath(process.env.KUBECONFIG, os.homedir()),
          field: f.kubeconfig ? asGiven('--kubeconfig') : process.env.KUBECONFIG?.trim() ? 'KUBECONFIG' : undefined,
          setCurrent: f['set-current'],
        } as const);
  if (destination.mode !== 'print') {
    const { checkKubeconfigTarget } = await import('../kube/merge');
    checkKubeconfigTarget(destination.file, destination.mode, destination.field);
  }
  return destination;
}
