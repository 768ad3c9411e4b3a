// The simulated account as `sandbox status` and `sandbox reset` see it: its saved state under
// $K3SCTL_HOME/sandbox, opened (and locked) only for as long as it is read or reset.
import * as path from 'node:path';
import type { SandboxState } from '../../sandbox/account';
import type { SandboxStore } from '../../sandbox/store';

/** What `sandbox status` reports. */
export interface SandboxStatus {
  stateFile: string;
  virtualTime: string;
  regions: string[];
  resources: Record<string, number>;
  calls: SandboxState['calls'];
}

/** The store of the simulated account under $K3SCTL_HOME/sandbox (its module loaded only when used). */
export async function sandboxStore(home: string): Promise<SandboxStore> {
  const { SandboxStore } = await import('../../sandbox/store');
  return new SandboxStore(path.join(home, 'sandbox'));
}

/** The account's virtual time, regions, resources by type and calls made. */
export async function sandboxStatus(home: string): Promise<SandboxStatus> {
  const store = await sandboxStore(home);
  const sandbox = await store.open();
  try {
    return {
      stateFile: store.statePath,
      virtualTime: new Date(sandbox.now()).toISOString(),
      regions: sandbox.regions,
      resources: sandbox.resourceCounts(),
      // By operation name: calls made side by side reach the sandbox in no fixed order.
      calls: { ...sandbox.state.calls, byOperation: Object.fromEntries(Object.entries(sandbox.state.calls.byOperation).sort(([a], [b]) => a.localeCompare(b))) },
    };
  } finally {
    store.release();
  }
}

/** Forgets the account (a fresh default one is created on next use); returns the state file. */
export async function resetSandbox(home: string): Promise<string> {
  const store = await sandboxStore(home);
  await store.open();
  try {
    store.reset();
  } finally {
    store.release();
  }
  return store.statePath;
}
