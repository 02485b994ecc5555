import { diag } from '@opentelemetry/api';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/register' });
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Runs `shutdown` (flushing open profiles and queued spans) when the process is told to stop or runs
 * out of work:
 * - on SIGTERM or SIGINT, then, if no other listener of that signal exists (the application does not
 *   handle it), raises the signal again with its default action, so the process still ends as it would
 *   have without us (a second signal during the flush ends it at once);
 * - on `beforeExit` (the event loop is empty), once.
 * An application that handles the signal itself and exits at once cuts the flush short.
 */
export function installShutdownHooks(shutdown: () => Promise<void>): void {
  for (const signal of SIGNALS) {
    const onSignal = (): void => {
      logger.debug(`${signal}: shutting down`);
      // Removed at once, so a second Ctrl-C during a slow flush ends the process as usual.
      process.removeListener(signal, onSignal);
      void shutdown().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    process.on(signal, onSignal);
  }
  process.once('beforeExit', () => void shutdown());
}
