import type { ChildProcess } from 'node:child_process';
import { ManagedProcess } from './child-process';
import { startCollectorWithConfig, type RunningCollector } from './collector';
import { buildGoBinary, launchWithConfig } from './go-binary';

/**
 * Builds, starts and stops a real Jaeger v2 (built from Go modules by scripts/build-jaeger.sh) for
 * end-to-end tests: an OTLP/HTTP receiver and the query service's HTTP API on free loopback ports,
 * in-memory storage, nothing else listening. A build failure throws with the build's output, so a
 * test that needs Jaeger fails instead of skipping.
 */

let builtBinary: Promise<string> | undefined;

/** Builds Jaeger (a no-op when the cached binary exists); resolves to its path. Memoized per process. */
export function buildJaeger(): Promise<string> {
  builtBinary ??= buildGoBinary('build-jaeger.sh', 'Jaeger');
  return builtBinary;
}

/** How the started Jaeger is configured. */
export interface JaegerOptions {
  /** A Jaeger UI configuration file (JSON) for the query service (`ui.config_file`). Default: none. */
  uiConfigFile?: string;
  /** How many traces the in-memory store keeps. Default 10 000. */
  maxTraces?: number;
  /** How long to wait for Jaeger to become ready. Default 60 000 ms. */
  startTimeoutMillis?: number;
}

/**
 * Jaeger v2 config as JSON (its YAML loader reads JSON as well): OTLP/HTTP in, memory storage, the
 * query service's HTTP and gRPC APIs. Port 0 everywhere: Jaeger binds free ports and logs them.
 * The defaults it replaces bind 0.0.0.0 or localhost on fixed ports (4317, 4318, 16685, 16686,
 * 8888 for its own metrics), which would clash between parallel runs.
 */
export function jaegerConfig(options: JaegerOptions): object {
  const query: Record<string, unknown> = {
    storage: { traces: 'memstore' },
    http: { endpoint: '127.0.0.1:0' },
    grpc: { endpoint: '127.0.0.1:0' },
  };
  if (options.uiConfigFile !== undefined) query.ui = { config_file: options.uiConfigFile };
  return {
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
    exporters: { jaeger_storage_exporter: { trace_storage: 'memstore' } },
    extensions: {
      jaeger_storage: { backends: { memstore: { memory: { max_traces: options.maxTraces ?? 10_000 } } } },
      jaeger_query: query,
    },
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: { traces: { receivers: ['otlp'], exporters: ['jaeger_storage_exporter'] } },
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info', encoding: 'json' } },
    },
  };
}

/** A span as Jaeger's HTTP API (`/api/traces/<id>`) returns it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  /** Microseconds since the epoch. */
  startTime: number;
  /** Microseconds. */
  duration: number;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

/** A trace as Jaeger's HTTP API returns it. */
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}

/** The value of a span's tag (an OTLP span attribute), or undefined. */
export function tagOf(span: JaegerSpan, key: string): unknown {
  return span.tags.find((tag) => tag.key === key)?.value;
}

/** The span with no CHILD_OF reference inside its trace (the trace's root), or undefined. */
export function rootSpanOf(trace: JaegerTrace): JaegerSpan | undefined {
  const ids = new Set(trace.spans.map((span) => span.spanID));
  return trace.spans.find((span) => !span.references.some((ref) => ref.refType === 'CHILD_OF' && ids.has(ref.spanID)));
}

/** A Jaeger process started by {@link startJaeger}. */
export class RunningJaeger extends ManagedProcess {
  private otlpBase: string | undefined;
  private queryBase: string | undefined;

  constructor(
    child: ChildProcess,
    readonly configPath: string,
  ) {
    super(child);
  }

  /** The OTLP/HTTP receiver's base URL, e.g. `http://127.0.0.1:43181`; set once ready. */
  get otlpEndpoint(): string {
    if (this.otlpBase === undefined) throw new Error('Jaeger is not ready yet');
    return this.otlpBase;
  }

  /** The query service's HTTP base URL (API and UI), e.g. `http://127.0.0.1:43182`; set once ready. */
  get queryUrl(): string {
    if (this.queryBase === undefined) throw new Error('Jaeger is not ready yet');
    return this.queryBase;
  }

  /** Jaeger's logs, one JSON object per line. */
  get logs(): string {
    return this.stderrText + this.stdoutText;
  }

  /** Log records of level error or worse. */
  errorLines(): string[] {
    return this.logRecords()
      .filter((record) => ['error', 'dpanic', 'panic', 'fatal'].includes(String(record.level)))
      .map((record) => JSON.stringify(record));
  }

  /** Resolves once both listeners are up and the service says it is ready; rejects when it exits first. */
  async waitUntilReady(timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      if (this.hasExited) throw new Error(`Jaeger exited before it was ready:\n${this.logs}`);
      const records = this.logRecords();
      // The OTLP receiver logs the address it bound; the query service logs its own.
      const otlp = records.find((r) => r.msg === 'Starting HTTP server' && typeof r.endpoint === 'string');
      const query = records.find((r) => r.msg === 'Query server started' && typeof r.http_addr === 'string');
      if (
        otlp !== undefined &&
        query !== undefined &&
        records.some((r) => r.msg === 'Everything is ready. Begin running and processing data.')
      ) {
        this.otlpBase = `http://${String(otlp.endpoint)}`;
        this.queryBase = `http://${String(query.http_addr)}`;
        return;
      }
      if (Date.now() > deadline) throw new Error(`Jaeger not ready after ${timeoutMillis} ms:\n${this.logs}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** GET `pathAndQuery` from the query service; resolves with the status and the body as text. */
  async get(pathAndQuery: string): Promise<{ status: number; body: string }> {
    const response = await fetch(new URL(pathAndQuery, this.queryUrl));
    return { status: response.status, body: await response.text() };
  }

  /**
   * The trace from `/api/traces/<traceIdHex>`, polled until it has at least `minSpans` spans (Jaeger
   * stores spans as they arrive) or `timeoutMillis` passes.
   */
  async trace(traceIdHex: string, minSpans = 1, timeoutMillis = 15_000): Promise<JaegerTrace> {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      const { status, body } = await this.get(`/api/traces/${traceIdHex}`);
      if (status === 200) {
        const trace = (JSON.parse(body) as { data: JaegerTrace[] }).data[0];
        if (trace !== undefined && trace.spans.length >= minSpans) return trace;
      }
      if (Date.now() > deadline)
        throw new Error(`Jaeger has no trace ${traceIdHex} with ${minSpans}+ spans (last answer ${status}: ${body.slice(0, 500)})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The traces of `service` from the search API (`/api/traces?service=...`), newest first. */
  async findTraces(service: string, limit: number): Promise<JaegerTrace[]> {
    const { status, body } = await this.get(`/api/traces?service=${encodeURIComponent(service)}&limit=${limit}&lookback=1h`);
    if (status !== 200) throw new Error(`Jaeger trace search answered ${status}: ${body.slice(0, 500)}`);
    return (JSON.parse(body) as { data: JaegerTrace[] }).data;
  }

  private logRecords(): Record<string, unknown>[] {
    const records: Record<string, unknown>[] = [];
    for (const line of this.logs.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a partial line: read it again on the next poll
      }
    }
    return records;
  }
}

/** Builds (if needed) and starts Jaeger, waits until it is ready. Call `stop()` after. */
export async function startJaeger(options: JaegerOptions = {}): Promise<RunningJaeger> {
  const binary = await buildJaeger();
  return launchWithConfig(
    binary,
    jaegerConfig(options),
    { tmpPrefix: 'jaeger-e2e-', startTimeoutMillis: options.startTimeoutMillis ?? 60_000 },
    (child, configPath) => new RunningJaeger(child, configPath),
  );
}

/** Where the Collector started by {@link startCollectorInFront} sends each signal. */
export interface CollectorRoutes {
  /** OTLP/HTTP base URLs that get the traces (e.g. Jaeger's receiver, the viewer). */
  traces: readonly string[];
  /** OTLP/HTTP base URLs that get the profiles (e.g. the viewer). Empty: printed by `debug` only. */
  profiles: readonly string[];
}

/**
 * Collector config as JSON: OTLP/HTTP in on a free loopback port, one `otlp_http` exporter per
 * destination, each signal to its own list (a `debug` exporter at basic verbosity on both, so a
 * pipeline is never without an exporter).
 */
export function routingCollectorConfig(routes: CollectorRoutes): object {
  const exporters: Record<string, object> = { debug: { verbosity: 'basic', use_internal_logger: false } };
  const names = new Map<string, string>();
  for (const url of [...routes.traces, ...routes.profiles]) {
    if (names.has(url)) continue;
    const name = `otlp_http/${names.size}`;
    names.set(url, name);
    exporters[name] = { endpoint: url, compression: 'gzip', retry_on_failure: { enabled: false } };
  }
  const pipeline = (urls: readonly string[]): object => ({
    receivers: ['otlp'],
    exporters: ['debug', ...urls.map((url) => names.get(url)!)],
  });
  return {
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
    exporters,
    service: {
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info', encoding: 'json' } },
      pipelines: { traces: pipeline(routes.traces), profiles: pipeline(routes.profiles) },
    },
  };
}

/**
 * Starts the project's Collector (scripts/build-collector.sh) with traces and profiles routed as
 * `routes` says, as a user puts it in front of Jaeger and a profile store; waits until it is ready.
 */
export async function startCollectorInFront(routes: CollectorRoutes, startTimeoutMillis = 60_000): Promise<RunningCollector> {
  return startCollectorWithConfig(routingCollectorConfig(routes), 'otelcol-jaeger-e2e-', startTimeoutMillis);
}
