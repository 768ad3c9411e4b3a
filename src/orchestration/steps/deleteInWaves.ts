// What every delete workflow shares: deleting what it found, kind by kind, in the order the providers'
// dependencies give (ProviderRegistry.deletionWaves). A workflow says what it deletes of each kind and
// how, never in which order. The kinds of a wave run side by side; a kind whose delete failed keeps
// every kind that must outlive it (and what must outlive those), while the kinds independent of it are
// still deleted. The first failure is thrown at the end, so the run's result lists everything deleted.
import type { PlannedChange } from '../../core/events';
import { ownedChange, type Owned } from '../../provider/cluster';
import type { ProviderRegistry } from '../../provider/provider';

/** The delete of each kind found, by type. */
export type KindDeletes = ReadonlyMap<string, () => Promise<unknown>>;

/** Runs `deletes` wave by wave; `anchor` (the kind by which a re-run finds what is left) goes last. */
export async function deleteInWaves(providers: ProviderRegistry, deletes: KindDeletes, anchor?: string): Promise<void> {
  const kinds = [...deletes.keys()];
  const kept = new Set<string>();
  let firstFailure: { error: unknown } | undefined;
  for (const wave of providers.deletionWaves(kinds, anchor)) {
    const settled = await Promise.allSettled(
      wave.map(async (type) => {
        if (providers.deletedBefore(type, kinds, anchor).some((k) => kept.has(k))) {
          kept.add(type);
          return;
        }
        try {
          await deletes.get(type)!();
        } catch (error) {
          kept.add(type);
          throw error;
        }
      }),
    );
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed && !firstFailure) firstFailure = { error: failed.reason };
  }
  if (firstFailure) throw firstFailure.error;
}

/** `planned` in the order deleteInWaves deletes it: kind by kind, wave by wave (a kind's changes in their order). */
export function inDeletionOrder(providers: ProviderRegistry, planned: readonly PlannedChange[], anchor?: string): PlannedChange[] {
  const order = providers.deletionWaves([...new Set(planned.map((c) => c.type))], anchor).flat();
  return [...planned].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}

/** What a delete found, by kind: only kinds with something found. */
export type Inventory = ReadonlyMap<string, Owned[]>;

/** Discovers every one of `kinds` at once (reads only). */
export async function discoverInventory(kinds: readonly string[], discover: (type: string) => Promise<Owned[]>): Promise<Inventory> {
  const found = await Promise.all(kinds.map(async (t) => [t, await discover(t)] as const));
  return new Map(found.filter(([, owned]) => owned.length));
}

/** The planned changes of `inv`, in the order deleteInventory deletes them. */
export function inventoryChanges(providers: ProviderRegistry, inv: Inventory, anchor?: string): PlannedChange[] {
  return inDeletionOrder(providers, [...inv].flatMap(([type, owned]) => owned.map((o) => ownedChange(type, o))), anchor);
}

/** Deletes what `inv` holds, each kind through `deleteKind` (its provider's delete), in the kinds' waves. */
export function deleteInventory(providers: ProviderRegistry, inv: Inventory, deleteKind: (type: string, owned: Owned[]) => Promise<unknown>, anchor?: string): Promise<void> {
  return deleteInWaves(providers, new Map([...inv].map(([type, owned]) => [type, () => deleteKind(type, owned)])), anchor);
}
