import type { ChildProcess } from 'node:child_process';

/** How a {@link ManagedProcess} is stopped. */
export interface ManagedProcessOptions {
  /** How long `stop()` waits after SIGTERM before it sends SIGKILL. Default 15 000 ms. */
  readonly killAfterMillis?: number;
}

/**
 * A child process started by a test (the Collector, Jaeger, the example service, the viewer):
 * its stdout and stderr are kept as text, and `stop()` ends it, SIGTERM first.
 */
export class ManagedProcess {
  protected stdoutText = '';
  protected stderrText = '';
  private readonly exited: Promise<number | null>;
  private readonly killAfterMillis: number;

  constructor(
    private readonly child: ChildProcess,
    options: ManagedProcessOptions = {},
  ) {
    this.killAfterMillis = options.killAfterMillis ?? 15_000;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdoutText += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrText += chunk;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Everything the process wrote to stdout so far. */
  get stdout(): string {
    return this.stdoutText;
  }

  /** Everything the process wrote to stderr so far. */
  get stderr(): string {
    return this.stderrText;
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** SIGTERM, then SIGKILL after `timeoutMillis` (default: the `killAfterMillis` option); resolves with the exit code. */
  async stop(timeoutMillis = this.killAfterMillis): Promise<number | null> {
    if (this.hasExited) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMillis);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
