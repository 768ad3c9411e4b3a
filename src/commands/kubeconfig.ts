import * as os from 'node:os';
import * as path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/command';
import { kubeconfigDestination } from '../cli/kubeconfigInput';
import { UserError } from '../core/errors';

export default class Kubeconfig extends BaseCommand<typeof Kubeconfig> {
  static override description =
    'Fetch the kubeconfig of a cluster from a running control plane (over SSH or SSM Run Command) and merge it into $KUBECONFIG or ~/.kube/config';

  static override examples = [
    '<%= config.bin %> kubeconfig demo --region eu-west-1',
    '<%= config.bin %> kubeconfig demo --identity ~/.ssh/demo.pem',
    '<%= config.bin %> kubeconfig demo --via ssm --print > demo.yaml',
    '<%= config.bin %> kubeconfig demo --private-ip --bastion ec2-user@bastion.example.com --context demo',
  ];

  static override args = {
    cluster: Args.string({ description: 'cluster name', required: true }),
  };

  static override flags = {
    'instance-id': Flags.string({
      description: 'read from this control-plane instance (default: an InService one)',
    }),
    via: Flags.string({
      description:
        'transport: ssh (default when a key is given or ssh-agent holds one) or ssm (Run Command; no open port or key needed)',
      options: ['ssh', 'ssm'],
      env: 'K3SCTL_KUBECONFIG_VIA',
    }),
    'private-ip': Flags.boolean({
      description: 'use the private IP for the API server address and SSH (VPN or bastion set-ups)',
    }),
    context: Flags.string({ description: 'context name (default k3sctl-CLUSTER.REGION)' }),
    'set-current': Flags.boolean({
      description: 'make the context the current one',
      default: true,
      allowNo: true,
    }),
    kubeconfig: Flags.string({
      description: 'kubeconfig file to merge into (default: first file of $KUBECONFIG, else ~/.kube/config)',
    }),
    print: Flags.boolean({
      description: 'print the kubeconfig on stdout instead of merging it',
      exclusive: ['write', 'kubeconfig'],
    }),
    write: Flags.string({
      description: 'write a kubeconfig of its own to PATH (overwritten) instead of merging',
      exclusive: ['print', 'kubeconfig'],
    }),
    user: Flags.string({
      description: 'SSH login user (default from the AMI: ec2-user, ubuntu)',
      env: 'K3SCTL_SSH_USER',
      helpGroup: 'SSH',
    }),
    identity: Flags.string({
      char: 'i',
      description: 'SSH private key file',
      env: 'K3SCTL_SSH_IDENTITY',
      helpGroup: 'SSH',
    }),
    'ssh-port': Flags.integer({
      description: 'SSH port',
      default: 22,
      min: 1,
      max: 65535,
      env: 'K3SCTL_SSH_PORT',
      helpGroup: 'SSH',
    }),
    sudo: Flags.boolean({
      description: 'read the root-owned file with sudo -n',
      default: true,
      allowNo: true,
      helpGroup: 'SSH',
    }),
    bastion: Flags.string({
      description: 'jump host [user@]host[:port]',
      env: 'K3SCTL_SSH_BASTION',
      helpGroup: 'SSH',
    }),
    'known-hosts': Flags.string({
      description: 'known_hosts file (default $K3SCTL_HOME/known_hosts)',
      env: 'K3SCTL_KNOWN_HOSTS',
      helpGroup: 'SSH',
    }),
    'accept-new-host-key': Flags.boolean({
      description: 'trust and record an unknown SSH host key that the console output cannot vouch for',
      helpGroup: 'SSH',
    }),
    'ssh-timeout': Flags.integer({
      description: 'seconds to wait for the SSH handshake',
      default: 20,
      min: 1,
      helpGroup: 'SSH',
    }),
    'remote-path': Flags.string({
      description: 'path of the k3s kubeconfig on the instance',
      default: '/etc/rancher/k3s/k3s.yaml',
      hidden: true,
    }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const cluster = this.args.cluster!;
    if (f.via === 'ssm' && (f.bastion || f.identity)) {
      const field = this.asGiven(f.bastion ? '--bastion' : '--identity');
      throw new UserError(`${field} applies to --via ssh only`, 'drop it, or use --via ssh', field);
    }
    const destination = await kubeconfigDestination(cluster, f, this.home, (flag) => this.asGiven(flag));
    const { fetchKubeconfig } = await import('../orchestration/workflows/kubeconfig');
    const deps = await this.deps();
    const sshDir = path.join(os.homedir(), '.ssh');
    const result = await fetchKubeconfig(deps, {
      cluster,
      instanceId: f['instance-id'],
      via: f.via as 'ssh' | 'ssm' | undefined,
      privateIp: f['private-ip'],
      context: f.context,
      destination,
      remotePath: f['remote-path'],
      ssh: {
        user: f.user,
        identityFile: f.identity ? path.resolve(f.identity) : undefined,
        agentSocket: process.env.SSH_AUTH_SOCK,
        port: f['ssh-port'],
        sudo: f.sudo,
        bastion: f.bastion,
        knownHostsFile: f['known-hosts'] ? path.resolve(f['known-hosts']) : undefined,
        acceptNewHostKey: f['accept-new-host-key'],
        readyTimeoutMs: f['ssh-timeout'] * 1000,
        defaultIdentityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => path.join(sshDir, k)),
      },
      confirmHostKey: this.canPrompt()
        ? (fingerprint, address) => this.confirmHostKey(fingerprint, address)
        : undefined,
      signal: this.interruptSignal(),
    });
    this.output(result, () => {
      if (result.printed) return result.kubeconfig ?? '';
      const how =
        result.via === 'ssh' ? `over SSH as ${result.address}` : `over SSM from ${result.instanceId}`;
      return [
        `Fetched the kubeconfig of ${result.cluster} ${how}.`,
        `Context ${result.context} (server ${result.server}) written to ${result.file}${destination.mode === 'merge' && destination.setCurrent ? ' and made current' : ''}.`,
        `Try: kubectl${destination.mode === 'write' ? ` --kubeconfig ${result.file}` : ''} --context ${result.context} get nodes`,
      ].join('\n');
    });
  }

  /** Asks on the terminal (stderr, so --print output stays clean) whether to trust a host key. */
  private async confirmHostKey(fingerprint: string, address: string): Promise<boolean> {
    const { confirm } = await import('../ui/prompts');
    return confirm(
      `The authenticity of ${address} cannot be established; its host key fingerprint is ${fingerprint}. Trust it and record it in known_hosts?`,
    );
  }
}
