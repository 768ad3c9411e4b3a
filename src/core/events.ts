// Progress events: domain code reports through this interface; src/ui renders it (listr2 on a TTY,
// plain lines otherwise, nothing extra with --json).
export type ProgressEvent =
  | { kind: 'plan'; changes: PlannedChange[] }
  | { kind: 'step-start'; key: string; title: string }
  | { kind: 'step-update'; key: string; message: string }
  | { kind: 'step-done'; key: string; title: string; action?: ChangeAction; id?: string }
  | { kind: 'step-skip'; key: string; title: string; reason: string }
  | { kind: 'step-fail'; key: string; title: string; error: string }
  | { kind: 'rollback-start'; entries: number }
  | { kind: 'rollback-step'; title: string; ok: boolean; error?: string }
  | { kind: 'log'; level: 'info' | 'warn' | 'debug'; message: string };

export type ChangeAction = 'create' | 'update' | 'delete' | 'noop';

/** One line of a plan and of the JSON result's `changes` (CloudFormation-style type names). */
export interface PlannedChange {
  action: ChangeAction;
  type: string;
  name: string;
  id?: string;
  /** For updates: the fields that differ, e.g. `desiredCapacity: 3 -> 5`. */
  details?: string[];
}

export interface EventSink {
  emit(event: ProgressEvent): void;
}

