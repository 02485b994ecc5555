import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { repoRoot } from '../helpers/collector';

/** examples/service.js running in its own Node process (the same Node binary as the test). */
export class ExampleService {
  stdout = '';
  stderr = '';
  /** Base URL, e.g. `http://127.0.0.1:40123`; set once it listens. */
  url = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { this.stdout += chunk; });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
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

  /** SIGTERM (the service flushes telemetry, then exits by itself); SIGKILL after `timeoutMillis`. */
  async stop(timeoutMillis = 30_000): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMillis);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
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
