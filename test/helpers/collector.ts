import type { ChildProcess } from 'node:child_process';
import { ManagedProcess } from './child-process';
import { buildGoBinary, launchWithConfig } from './go-binary';
import { canConnect } from './loopback-server';

export { repoRoot } from './go-binary';

/**
 * Builds, starts and stops a real OpenTelemetry Collector (built from Go modules by
 * scripts/build-collector.sh) for end-to-end tests. A build failure throws with the builder's
 * output, so a test that needs the Collector fails instead of skipping.
 */

let builtBinary: Promise<string> | undefined;

/**
 * Builds the Collector (a no-op when the cached binary exists); resolves to its path. Memoized per
 * process unless `env` (extra environment for scripts/build-collector.sh) is given.
 */
export function buildCollector(env?: Record<string, string>): Promise<string> {
  if (env !== undefined) return buildGoBinary('build-collector.sh', 'the OpenTelemetry Collector', env);
  builtBinary ??= buildGoBinary('build-collector.sh', 'the OpenTelemetry Collector');
  return builtBinary;
}

/** What the started Collector does with what it receives. */
export interface CollectorOptions {
  /**
   * Base URL (`http://127.0.0.1:<port>`) of an OTLP/HTTP receiver the Collector forwards to with
   * its `otlp_http` exporter (`/v1/traces`, `/v1development/profiles`). Default: no forwarding.
   */
  forwardTo?: string;
  /** Verbosity of the `debug` exporter in both pipelines. Default `'detailed'`. */
  debugVerbosity?: 'basic' | 'normal' | 'detailed';
  /** How long to wait for the Collector to become ready. Default 60 000 ms. */
  startTimeoutMillis?: number;
}

/** Collector config as JSON, which the Collector's YAML loader reads as well. */
export function collectorConfig(receiverPort: number, options: CollectorOptions): object {
  const exporters: Record<string, object> = {
    // Its own writer (stdout), so that its printout stays apart from the Collector's JSON logs.
    debug: { verbosity: options.debugVerbosity ?? 'detailed', use_internal_logger: false },
  };
  if (options.forwardTo !== undefined) {
    exporters.otlp_http = {
      endpoint: options.forwardTo,
      compression: 'gzip',
      retry_on_failure: { enabled: false },
    };
  }
  const pipeline = { receivers: ['otlp'], exporters: Object.keys(exporters) };
  return {
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${receiverPort}` } } } },
    exporters,
    service: {
      // No internal metrics server: its fixed default port would clash between parallel runs.
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info', encoding: 'json' } },
      pipelines: { traces: pipeline, profiles: pipeline },
    },
  };
}

/**
 * A Collector process started by {@link startCollector}: `stdout` is the debug exporter's printout,
 * `stderr` the Collector's own logs, one JSON object per line.
 */
export class RunningCollector extends ManagedProcess {
  private boundEndpoint: string | undefined;

  constructor(
    child: ChildProcess,
    readonly configPath: string,
  ) {
    super(child);
  }

  /** The OTLP/HTTP receiver's base URL, e.g. `http://127.0.0.1:43181`; set once ready. */
  get endpoint(): string {
    if (this.boundEndpoint === undefined) throw new Error('Collector is not ready yet');
    return this.boundEndpoint;
  }

  /** Log lines of level error or worse (and any stderr line that is not a JSON log record). */
  errorLines(): string[] {
    return this.stderrText.split('\n').filter((line) => {
      if (line.trim() === '') return false;
      try {
        const level = String((JSON.parse(line) as { level?: unknown }).level ?? '');
        return ['error', 'dpanic', 'panic', 'fatal'].includes(level);
      } catch {
        return true;
      }
    });
  }

  /** Resolves when `predicate(stdout)` holds, rejects after `timeoutMillis` with the output so far. */
  async waitForStdout(predicate: (stdout: string) => boolean, timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    while (!predicate(this.stdoutText)) {
      if (Date.now() > deadline) {
        throw new Error(`Collector output did not match within ${timeoutMillis} ms:\n${this.stdoutText.slice(-4000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves once the receiver accepts connections; rejects when the process exits first. */
  async waitUntilReady(timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      if (this.hasExited) throw new Error(`Collector exited before it was ready:\n${this.stderrText}`);
      const port = this.httpReceiverPort();
      if (port !== undefined && this.stderrText.includes('Everything is ready') && (await canConnect(port))) {
        this.boundEndpoint = `http://127.0.0.1:${port}`;
        return;
      }
      if (Date.now() > deadline) throw new Error(`Collector not ready after ${timeoutMillis} ms:\n${this.stderrText}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The port from the receiver's "Starting HTTP server" log record. */
  private httpReceiverPort(): number | undefined {
    for (const line of this.stderrText.split('\n')) {
      if (!line.includes('Starting HTTP server')) continue;
      try {
        const endpoint = String((JSON.parse(line) as { endpoint?: unknown }).endpoint ?? '');
        const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
        if (Number.isInteger(port) && port > 0) return port;
      } catch {
        // a partial line: read it again on the next poll
      }
    }
    return undefined;
  }
}

/**
 * Builds (if needed) and starts the Collector with `traces` and `profiles` pipelines (OTLP/HTTP
 * receiver on a free loopback port -> debug, and otlp_http when `forwardTo` is set), and waits
 * until it accepts connections. Call `stop()` after.
 */
export async function startCollector(options: CollectorOptions = {}): Promise<RunningCollector> {
  // Port 0: the Collector binds a free port itself and logs it, so no other process can take it first.
  return startCollectorWithConfig(collectorConfig(0, options), 'otelcol-e2e-', options.startTimeoutMillis ?? 60_000);
}

/**
 * Builds (if needed) and starts the Collector with `config` (see {@link collectorConfig}) and the
 * profiles feature gate, in a temporary directory named after `tmpPrefix`; waits until its OTLP/HTTP
 * receiver accepts connections. Call `stop()` after.
 */
export async function startCollectorWithConfig(config: object, tmpPrefix: string, startTimeoutMillis = 60_000): Promise<RunningCollector> {
  const binary = await buildCollector();
  return launchWithConfig(
    binary,
    config,
    { tmpPrefix, extraArgs: ['--feature-gates=service.profilesSupport'], startTimeoutMillis },
    (child, configPath) => new RunningCollector(child, configPath),
  );
}
