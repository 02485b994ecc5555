import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as http from 'node:http';

/** How a test application ended, and what it printed. */
export interface AppExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A Node.js application run as a child process that prints `listening <port>` once it serves on
 * 127.0.0.1. `stop()` sends SIGTERM, as a process manager would, and waits for the exit.
 */
export class AppProcess {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';
  private readonly exited: Promise<AppExit>;
  /** The port the application printed; set by `ready()`. */
  port = 0;

  constructor(nodeBinary: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn(nodeBinary, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      stdout: this.stdout,
      stderr: this.stderr,
    }));
  }

  /** Waits for `listening <port>`; rejects with the output if the process exits first. */
  async ready(): Promise<void> {
    const started = new Promise<number>((resolve) => {
      const check = (): void => {
        const match = /listening (\d+)/.exec(this.stdout);
        if (match) resolve(Number(match[1]));
        else setTimeout(check, 50);
      };
      check();
    });
    const failed = this.exited.then((exit) => {
      throw new Error(
        `the application exited before listening (code ${exit.code}, signal ${exit.signal}):\n${exit.stdout}\n${exit.stderr}`,
      );
    });
    this.port = await Promise.race([started, failed]);
  }

  /** Sends `count` GET requests to `path`, `concurrency` at a time; returns the status codes. */
  async get(path: string, count: number, concurrency = 4): Promise<number[]> {
    const statuses: number[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        next++;
        statuses.push(await getStatus(`http://127.0.0.1:${this.port}${path}`));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return statuses;
  }

  /** SIGTERM, then the exit. */
  async stop(): Promise<AppExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Ends the process at once if a test failed before stopping it. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}
