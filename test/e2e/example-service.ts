import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { ManagedProcess } from '../helpers/child-process';
import { repoRoot } from '../helpers/collector';

/** Each route of examples/service.js and the function only that route runs. */
export const HOT_FUNCTIONS: Readonly<Record<string, string>> = {
  '/report': 'buildInventoryReport',
  '/parse': 'parseAccessLogDates',
  '/hash': 'deriveKeyChain',
};
/** The routes of examples/service.js that the end-to-end tests load. */
export const ROUTES: readonly string[] = Object.keys(HOT_FUNCTIONS);

/**
 * examples/service.js running in its own Node process (the same Node binary as the test).
 * `stop()` sends SIGTERM (the service flushes telemetry, then exits by itself), SIGKILL after
 * 30 s unless told otherwise.
 */
export class ExampleService extends ManagedProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`; set once it listens. */
  url = '';

  private constructor(child: ChildProcess) {
    super(child, { killAfterMillis: 30_000 });
  }

  /** Starts the service with `env` added to this process's environment; resolves once it listens. */
  static async start(env: Record<string, string>): Promise<ExampleService> {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'examples', 'service.js')], {
      env: { ...process.env, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ExampleService(child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const match = /listening on (http:\/\/\S+)/.exec(service.stdout);
      if (match) {
        service.url = match[1];
        return service;
      }
      if (child.exitCode !== null || Date.now() > deadline) {
        await service.stop();
        throw new Error(`example service did not start:\n${service.stdout}\n${service.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * The service's environment for exporting (OTLP/HTTP to the base URL `otlpEndpoint`) as
 * `serviceName`, as the end-to-end tests run it: spans batched every 200 ms, only SDK errors logged.
 */
export function exampleServiceEnv(otlpEndpoint: string, serviceName: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
    OTEL_SERVICE_NAME: serviceName,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_LOG_LEVEL: 'error',
  };
}

/**
 * Closed-loop load: `concurrency` loops send GET requests to `routes` in turn until
 * `durationMillis` has passed. Resolves with the status codes per route.
 */
export async function driveLoad(
  baseUrl: string,
  routes: readonly string[],
  durationMillis: number,
  concurrency: number,
): Promise<Map<string, number[]>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map<string, number[]>(routes.map((route) => [route, []]));
  const deadline = Date.now() + durationMillis;
  let next = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const route = routes[next++ % routes.length];
      const status = await new Promise<number>((resolve) => {
        http
          .get(new URL(route, baseUrl), { agent }, (res) => {
            res.resume();
            res.once('end', () => resolve(res.statusCode ?? 0));
          })
          .once('error', () => resolve(0));
      });
      statuses.get(route)!.push(status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  agent.destroy();
  return statuses;
}
