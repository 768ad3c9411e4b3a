// SIGINT and SIGTERM: while a workflow runs (it holds the signal), the first one aborts it, it rolls
// back and the command exits 130; before any workflow runs nothing was written, so the command
// releases what it holds and exits 130 at once. A second signal exits at once in either case (the
// journal under $K3SCTL_HOME/runs lets `runs rollback` finish the job).
import { ExitCode, InterruptedError } from '../core/errors';

/** What the command does when interrupted before any workflow ran. */
export interface InterruptionHooks {
  /** Ends the progress display and releases what the command holds (clients, the sandbox lock). */
  release: () => Promise<void>;
  /** Whether the interrupted document goes on stdout (--json). */
  json: () => boolean;
}

export class Interruption {
  /** Set by the first signal. */
  interrupted = false;
  /** Aborted on SIGINT/SIGTERM; handed to the workflow by signal(). */
  private readonly controller = new AbortController();
  /** Set once a workflow holds the signal (it then rolls back and ends the run itself). */
  private handled = false;

  constructor(private readonly hooks: InterruptionHooks) {}

  /** Listens for SIGINT and SIGTERM; returns the function that stops listening. */
  install(): () => void {
    const onSignal = (signal: NodeJS.Signals) => this.onSignal(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }

  /** The signal aborted by SIGINT/SIGTERM: the workflow given it rolls back, and the command exits 130. */
  signal(): AbortSignal {
    this.handled = true;
    return this.controller.signal;
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.interrupted) {
      process.stderr.write(`\n${signal} again: exiting without finishing; see k3sctl runs list\n`);
      process.exit(ExitCode.interrupted);
    }
    this.interrupted = true;
    this.controller.abort(new InterruptedError());
    if (this.handled) {
      process.stderr.write(`\n${signal}: stopping and rolling back (press Ctrl-C again to exit at once)\n`);
      return;
    }
    // No workflow is running yet, so nothing was written: release what is held and exit.
    void (async () => {
      await this.hooks.release();
      if (this.hooks.json()) {
        process.stdout.write(
          `${JSON.stringify({ error: { type: 'InterruptedError', message: 'interrupted', rolledBack: [], leftovers: [] } }, null, 2)}\n`,
        );
      }
      process.stderr.write('Error: interrupted; nothing was changed\n');
      process.exit(ExitCode.interrupted);
    })();
  }
}
