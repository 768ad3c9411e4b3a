// Builds WorkflowDeps against an in-memory sandbox for tests: sandbox clients (us-east-1), the
// sandbox's virtual clock, an EventSink that collects events, a fresh K3SCTL home and a unique run id.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EventSink, ProgressEvent } from '../../src/core/events';
import type { WorkflowDeps } from '../../src/orchestration/deps';
import { sandboxClients } from '../../src/sandbox/clients';
import { Sandbox } from '../../src/sandbox/sandbox';
import { providers } from '../../src/resources/registry';
import { parameterProvider } from '../orchestration/fixtures/parameterTask';

export interface CollectingEvents extends EventSink {
  readonly list: ProgressEvent[];
  /** Events of one kind, typed. */
  of<K extends ProgressEvent['kind']>(kind: K): Extract<ProgressEvent, { kind: K }>[];
  clear(): void;
}

export function collectingEvents(): CollectingEvents {
  const list: ProgressEvent[] = [];
  return {
    list,
    emit: (event) => {
      list.push(event);
    },
    of: <K extends ProgressEvent['kind']>(kind: K) =>
      list.filter((e) => e.kind === kind) as Extract<ProgressEvent, { kind: K }>[],
    clear: () => {
      list.length = 0;
    },
  };
}

let counter = 0;
const homes: string[] = [];

/** A unique run id (also unique across parallel jest workers). */
export function testRunId(): string {
  counter += 1;
  return `test-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh temporary K3SCTL home, removed by removeTestHomes(). */
export function testHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-test-'));
  homes.push(home);
  return home;
}

/** Removes every home made by testHome()/sandboxDeps() in this test file (call from afterAll). */
export function removeTestHomes(): void {
  for (const home of homes.splice(0)) fs.rmSync(home, { recursive: true, force: true });
}

/** Every provider of k3sctl plus the engine tests' synthetic parameter kind. */
export const testProviders = providers.with(parameterProvider);

/**
 * Dependencies for a workflow against `sb` (a new sandbox when omitted). `events` is the collecting
 * sink installed in deps (unless overrides replace it). Call again with the same `sb` and `home`
 * (overrides) for a second run against the same account: each call makes a new run id and fresh
 * clients (so `deps.clients.calls` counts that run only).
 */
export function sandboxDeps(
  sb: Sandbox = new Sandbox(),
  overrides: Partial<WorkflowDeps> = {},
): { deps: WorkflowDeps; sb: Sandbox; home: string; events: CollectingEvents } {
  const events = collectingEvents();
  const home = overrides.home ?? testHome();
  const deps: WorkflowDeps = {
    clients: sandboxClients(sb, 'us-east-1'),
    clock: sb.clock,
    events,
    region: 'us-east-1',
    home,
    runId: testRunId(),
    sandbox: true,
    providers: testProviders,
    ...overrides,
  };
  return { deps, sb, home, events };
}
