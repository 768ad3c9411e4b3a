// Asks an ssh-agent whether it holds any key: `k3sctl kubeconfig` reads over SSH by default only
// when a key is available (given with --identity or loaded in the agent), otherwise over SSM.
import * as fs from 'node:fs';

interface AgentLike {
  getIdentities(cb: (error: Error | null | undefined, keys?: unknown[]) => void): void;
}

/** Number of identities in the agent at `socketPath`; 0 when it is absent or does not answer in time. */
export async function countAgentIdentities(
  socketPath: string | undefined,
  timeoutMs = 2000,
): Promise<number> {
  if (!socketPath) return 0;
  try {
    if (!fs.statSync(socketPath).isSocket()) return 0;
  } catch {
    return 0;
  }
  // ssh2 ships no type declarations; node-ssh depends on it, so it is always installed beside node-ssh.
  const { OpenSSHAgent } = require('ssh2') as { OpenSSHAgent: new (path: string) => AgentLike };
  const agent = new OpenSSHAgent(socketPath);
  return new Promise<number>((resolve) => {
    const timer = setTimeout(() => resolve(0), timeoutMs);
    try {
      agent.getIdentities((error, keys) => {
        clearTimeout(timer);
        resolve(error ? 0 : (keys?.length ?? 0));
      });
    } catch {
      clearTimeout(timer);
      resolve(0);
    }
  });
}
