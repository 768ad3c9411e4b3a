// The expected failures of fetching a kubeconfig. Each names what was tried (address, user, instance)
// so the message alone tells the user where it went wrong; nothing has been written when one is thrown.
import { UserError } from '../core/errors';

export type KubeconfigFailure =
  | 'no-control-plane'
  | 'no-address'
  | 'connection-refused'
  | 'timeout'
  | 'auth-failed'
  | 'no-ssh-key'
  | 'host-key-unknown'
  | 'host-key-changed'
  | 'host-key-revoked'
  | 'host-key-mismatch-console'
  | 'file-missing'
  | 'permission-denied'
  | 'sudo-failed'
  | 'command-failed'
  | 'ssm-agent-offline'
  | 'not-a-kubeconfig'
  | 'existing-file-invalid';

/** A kubeconfig could not be fetched or merged (exit 2: nothing was changed). */
export class KubeconfigError extends UserError {
  constructor(
    readonly reason: KubeconfigFailure,
    message: string,
    suggestion?: string,
    /** `user@host:port` for SSH, the instance id for SSM. */
    readonly address?: string,
    /** The input at fault (`--kubeconfig`, `KUBECONFIG`), when one is. */
    field?: string,
  ) {
    super(message, suggestion, field);
  }
}
