import { buildCollector, startCollector, type RunningCollector } from './collector';
import { decodeWithBuf, type Decoded } from './decode-buf';
import { LoopbackServer } from './loopback-server';

/** A running Collector whose otlp_http exporter forwards to a loopback sink in the test. */
export interface ForwardingCollector {
  readonly sink: LoopbackServer;
  /** The running Collector (after the `before` hook). */
  readonly collector: RunningCollector;
  /** The first profiles request the Collector forwarded that contains `marker`, decoded by buf (Go's protobuf). */
  forwardedProfiles(marker: string): Promise<Decoded>;
}

/** Starts a Collector that forwards to the OTLP/HTTP base URL `forwardTo`. */
export type StartForwardingCollector = (forwardTo: string) => Promise<RunningCollector>;

/**
 * Registers mocha hooks in the calling `describe`: build the Collector (fails, never skips),
 * start it with `start` (default: OTLP/HTTP in, debug at basic verbosity) forwarding to a loopback
 * sink before the tests, stop both after.
 */
export function useForwardingCollector(
  start: StartForwardingCollector = (forwardTo) => startCollector({ forwardTo, debugVerbosity: 'basic' }),
): ForwardingCollector {
  const sink = new LoopbackServer();
  let running: RunningCollector | undefined;

  before(async function () {
    // npm test's pretest step builds the Collector, so this returns at once; run alone, a cold build
    // (a few hundred Go packages, 22 min seen on 2 busy cores) happens here with no time limit.
    this.timeout(0);
    await buildCollector();
    this.timeout(120_000);
    await sink.start();
    running = await start(sink.origin);
  });

  after(async function () {
    this.timeout(30_000);
    await running?.stop();
    await sink.stop();
  });

  return {
    sink,
    get collector(): RunningCollector {
      if (running === undefined) throw new Error('the Collector is not running (its before hook failed or has not run)');
      return running;
    },
    async forwardedProfiles(marker: string): Promise<Decoded> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        for (const request of sink.requests) {
          if (request.path !== '/v1development/profiles') continue;
          const decoded = decodeWithBuf(request.body);
          if (JSON.stringify(decoded).includes(marker)) return decoded;
        }
        if (Date.now() > deadline) throw new Error(`the Collector forwarded nothing with ${marker}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
