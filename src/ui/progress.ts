// Renders progress events on stderr (placeholder: plain lines; listr2 rendering comes with the engine work).
import type { EventSink, ProgressEvent } from '../core/events';

export interface ProgressRenderer extends EventSink {
  close(): void;
}

export function createProgressRenderer(options: { json: boolean; verbose: boolean; tty: boolean }): ProgressRenderer {
  return {
    emit(event: ProgressEvent) {
      if (event.kind === 'log' && (event.level !== 'debug' || options.verbose)) process.stderr.write(`${event.message}\n`);
      if (event.kind === 'step-done') process.stderr.write(`✔ ${event.title}\n`);
    },
    close() {},
  };
}
