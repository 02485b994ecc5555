import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManagedProcess } from '../helpers/child-process';
import { repoRoot } from '../helpers/collector';
import { canConnect, freePorts } from '../helpers/loopback-server';

/**
 * The package's viewer (`otel-span-profiler view --port N --otlp-port N`, the `bin` of
 * package.json) in its own Node process, as the Jaeger end-to-end test uses it: an OTLP/HTTP
 * endpoint for traces and profiles, and the JSON API that serves a span's folded stacks.
 * `stop()` sends SIGTERM, SIGKILL after 10 s unless told otherwise.
 */
export class ViewerProcess extends ManagedProcess {
  private constructor(
    child: ChildProcess,
    /** The UI and API base URL, e.g. `http://127.0.0.1:40123`. */
    readonly url: string,
    /** The OTLP/HTTP base URL (`/v1/traces`, `/v1development/profiles`). */
    readonly otlpUrl: string,
  ) {
    super(child, { killAfterMillis: 10_000 });
  }

  /** The viewer's entry script, from package.json's `bin`; throws, saying so, when there is none. */
  static entryScript(): string {
    const root = repoRoot();
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['otel-span-profiler'];
    if (bin === undefined) throw new Error('package.json has no `bin` "otel-span-profiler": the viewer CLI is not in this build');
    const script = path.join(root, bin);
    if (!fs.existsSync(script)) throw new Error(`the viewer CLI ${script} does not exist (run npm run build)`);
    return script;
  }

  /** Starts `view` on two free loopback ports; resolves once its API and OTLP port answer. */
  static async start(timeoutMillis = 30_000): Promise<ViewerProcess> {
    const script = ViewerProcess.entryScript();
    const [port, otlpPort] = await freePorts(2);
    const child = spawn(process.execPath, [script, 'view', '--port', String(port), '--otlp-port', String(otlpPort)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const viewer = new ViewerProcess(child, `http://127.0.0.1:${port}`, `http://127.0.0.1:${otlpPort}`);
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      if (await viewer.answers()) return viewer;
      if (child.exitCode !== null || Date.now() > deadline) {
        await viewer.stop();
        throw new Error(
          `the viewer did not start (${script} view --port ${port} --otlp-port ${otlpPort}):\n${viewer.stdout}\n${viewer.stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** GET `pathAndQuery` from the viewer; resolves with the status and the body as text. */
  async get(pathAndQuery: string): Promise<{ status: number; body: string }> {
    const response = await fetch(new URL(pathAndQuery, this.url));
    return { status: response.status, body: await response.text() };
  }

  private async answers(): Promise<boolean> {
    try {
      const api = await fetch(new URL('/api/traces', this.url));
      await api.arrayBuffer();
      return api.status === 200 && (await canConnect(Number(new URL(this.otlpUrl).port)));
    } catch {
      return false;
    }
  }
}

/** A folded-stacks line (`outer;...;leaf <value>`) split into its frames and value. */
export interface FoldedLine {
  frames: string[];
  value: number;
}

/** Parses folded stacks; throws on a line that is not `frames <integer>`. */
export function parseFolded(folded: string): FoldedLine[] {
  const lines: FoldedLine[] = [];
  for (const line of folded.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^(.+) (\d+)$/.exec(line);
    if (match === null) throw new Error(`not a folded-stacks line: ${JSON.stringify(line)}`);
    lines.push({ frames: match[1].split(';'), value: Number(match[2]) });
  }
  return lines;
}

/**
 * The total value of the lines with a frame of function `name` (a frame is the bare name, or the
 * name followed by a location such as ` (file.js:12)`, as the viewer may print it).
 */
export function valueOfFunction(lines: readonly FoldedLine[], name: string): number {
  const isFrame = (frame: string): boolean => frame === name || frame.startsWith(`${name} `);
  return lines.filter((line) => line.frames.some(isFrame)).reduce((sum, line) => sum + line.value, 0);
}
