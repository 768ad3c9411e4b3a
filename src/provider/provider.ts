// What a provider is: the unit that knows one AWS kind (kops' fi tasks, a Terraform resource type). The
// resource modules export one Provider per kind they write; src/resources/registry.ts lists them, and the
// engine receives that list through WorkflowDeps: nothing registers itself on import. The kinds a
// provider depends on give the create order (dependencies first) and the delete order (dependents
// first); see `deletionWaves`. A kind a cluster owns also says how to find and delete what the cluster
// owns of it (src/provider/cluster.ts): `cluster delete` is generic over the registry.
import type { AwsClients } from '../aws/clients';
import type { WaitContext } from '../core/wait';
import type { ClusterDeleteOptions, ClusterScope, Owned, StepRunner } from './cluster';
import type { ClusterView } from './clusterView';
import type { Task } from './types';

export interface UndoHandler {
  /** Deletes a resource this run created; NotFound is success. */
  delete?(clients: AwsClients, data: Record<string, unknown>, env: WaitContext): Promise<void>;
  /** Restores previous values this run changed (`env` for undos that must wait on AWS state). */
  restore?(clients: AwsClients, data: Record<string, unknown>, env: WaitContext): Promise<void>;
}

/**
 * An undo that did part of its work and knows exactly what it could not put back: rollback reports
 * each of `remaining` as a leftover (kind and id), not only the journal entry it was undoing.
 */
export class UndoIncompleteError extends Error {
  override readonly name = 'UndoIncompleteError';
  constructor(
    message: string,
    readonly remaining: { type: string; name: string; id?: string }[],
  ) {
    super(message);
  }
}

export interface Provider {
  /** CloudFormation-style type name, as journal entries and undo records carry it. */
  type: string;
  /**
   * Kinds this one refers to: they exist before it is created, and are deleted only after it is gone
   * (a launch template names its security group and instance profile, so both outlive it).
   */
  dependsOn: readonly string[];
  /**
   * Of `dependsOn`, the kinds this one only names when it is created: AWS lets them go while it exists,
   * so its delete does not hold theirs (a launch template names its instance profile and parameters; the
   * instances launched from it use them, and their kinds depend on them for that). Deletion ignores these.
   */
  createOnly?: readonly string[];
  /**
   * Kinds that must outlive this one although they are created after it (so they are not among
   * `dependsOn`): a certificate's DNS validation records, made from the certificate's validation name,
   * through which ACM validates and renews it for as long as it exists. Deletion waits for this kind
   * to be gone before deleting them; creation ignores them.
   */
  outlivedBy?: readonly string[];
  /** How a run's write of this kind is undone (rollback, also of a crashed run by a later process). */
  undo: UndoHandler;
  /**
   * What a cluster has of this kind: the tasks that converge `view` (every kind's together are the runs
   * of cluster create, and of nodegroup add / scale for the groups in the view). A task names the tasks
   * of other kinds it needs through their modules' refs.
   */
  clusterTasks?(view: ClusterView): Task[];
  /**
   * The IAM actions this kind's work calls (`service:Action`), for `doctor` and the preflight of
   * `cluster create`: `read` (find, discover), `write` (create and update, and their undo), `delete`
   * (deleteOwned). The permissions of the cluster commands are derived from the kinds a cluster has
   * (src/orchestration/steps/requiredActions.ts).
   */
  iamActions?: { read: readonly string[]; write: readonly string[]; delete?: readonly string[] };
  /** What of this kind the cluster owns (reads only): `cluster delete` plans and deletes these. */
  discover?(scope: ClusterScope): Promise<Owned[]>;
  /**
   * Deletes `owned` (what `discover` found, never empty) through journaled writes, in steps of `run`,
   * with the waits and retries AWS needs for this kind. Every kind that must go first is gone.
   */
  deleteOwned?(run: StepRunner, owned: Owned[], options: ClusterDeleteOptions): Promise<void>;
  /**
   * For a kind a cluster has one of per group: what group `group` owns of it (reads only), and how
   * `nodegroup delete` deletes that (journaled writes in steps of `run`; rollback puts back what it can).
   */
  perGroup?: {
    discover(scope: ClusterScope, group: string): Promise<Owned[]>;
    deleteOwned(run: StepRunner, owned: Owned[], options: ClusterDeleteOptions): Promise<void>;
  };
}

/** Every provider by type, checked once: no duplicate, no unknown dependency, no dependency cycle. */
export class ProviderRegistry {
  private readonly byType = new Map<string, Provider>();

  constructor(providers: readonly Provider[]) {
    for (const p of providers) {
      if (this.byType.has(p.type)) throw new Error(`two providers for ${p.type}`);
      this.byType.set(p.type, p);
    }
    for (const p of providers) {
      for (const d of p.dependsOn) if (!this.byType.has(d)) throw new Error(`${p.type} depends on ${d}, which no provider offers`);
      for (const d of p.createOnly ?? []) if (!p.dependsOn.includes(d)) throw new Error(`${p.type}: ${d} is create-only but not a dependency`);
      for (const d of p.outlivedBy ?? []) if (!this.byType.has(d)) throw new Error(`${p.type} is outlived by ${d}, which no provider offers`);
    }
    this.creationWaves([...this.byType.keys()]);
    this.deletionWaves([...this.byType.keys()]);
  }

  /** This registry and `more` (tests add synthetic kinds this way). */
  with(...more: Provider[]): ProviderRegistry {
    return new ProviderRegistry([...this.byType.values(), ...more]);
  }

  get types(): string[] {
    return [...this.byType.keys()];
  }

  provider(type: string): Provider | undefined {
    return this.byType.get(type);
  }

  undoHandler(type: string): UndoHandler | undefined {
    return this.byType.get(type)?.undo;
  }

  /**
   * Every task that converges the cluster to `view`: each kind's contribution, kinds in creation order
   * (the engine runs them by their own dependencies; this is the order the plan lists them in).
   */
  clusterTasks(view: ClusterView): Task[] {
    return this.creationWaves(this.types)
      .flat()
      .flatMap((type) => this.byType.get(type)!.clusterTasks?.(view) ?? []);
  }

  /** Everything `type` depends on, directly or through other kinds. */
  dependenciesOf(type: string): Set<string> {
    return this.closure(type, (p) => p.dependsOn);
  }

  /**
   * What must outlive `type` when it is deleted: its dependencies but those it names at creation only,
   * and the kinds it is outlived by.
   */
  deleteDependenciesOf(type: string): Set<string> {
    return this.closure(type, (p) => [...p.dependsOn.filter((d) => !p.createOnly?.includes(d)), ...(p.outlivedBy ?? [])]);
  }

  /**
   * The kinds among `types` that must be gone before `type` is deleted: those whose delete depends on it
   * (directly or through kinds outside `types`) and, when `type` is the `anchor`, every other one. The
   * anchor is the kind by which the next run finds what is left (`cluster list` finds a cluster by its
   * security group, `endpoint delete` an endpoint by its configuration): it goes last, so a delete that
   * fails halfway can be run again.
   */
  deletedBefore(type: string, types: readonly string[], anchor?: string): string[] {
    return types.filter((other) => other !== type && (type === anchor || this.deleteDependenciesOf(other).has(type)));
  }

  private closure(type: string, edges: (p: Provider) => readonly string[]): Set<string> {
    const out = new Set<string>();
    const visit = (t: string) => {
      const p = this.byType.get(t);
      for (const d of p ? edges(p) : []) {
        if (!out.has(d)) {
          out.add(d);
          visit(d);
        }
      }
    };
    visit(type);
    return out;
  }

  /**
   * The order in which kinds can be created: waves of kinds whose dependencies (among `types`, directly or
   * through kinds outside `types`) are all in earlier waves. Kinds of one wave are independent of each other
   * (in name order).
   */
  creationWaves(types: readonly string[]): string[][] {
    return this.waves(types, (t, wanted) => [...this.dependenciesOf(t)].filter((d) => wanted.has(d)));
  }

  /**
   * The order in which kinds can be deleted: each kind in the first wave after every kind that must be
   * gone before it (`deletedBefore`), so independent kinds go together.
   */
  deletionWaves(types: readonly string[], anchor?: string): string[][] {
    return this.waves(types, (t, wanted) => this.deletedBefore(t, [...wanted], anchor));
  }

  private waves(types: readonly string[], before: (type: string, wanted: Set<string>) => string[]): string[][] {
    const wanted = new Set(types);
    const needs = new Map(types.map((t) => [t, before(t, wanted)]));
    const waves: string[][] = [];
    const placed = new Set<string>();
    while (placed.size < wanted.size) {
      const wave = [...wanted].filter((t) => !placed.has(t) && needs.get(t)!.every((d) => placed.has(d))).sort();
      if (wave.length === 0) throw new Error(`dependency cycle among ${[...wanted].filter((t) => !placed.has(t)).join(', ')}`);
      wave.forEach((t) => placed.add(t));
      waves.push(wave);
    }
    return waves;
  }
}
