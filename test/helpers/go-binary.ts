/*
 * What the Collector and Jaeger helpers share: building a Go binary with one of scripts/build-*.sh,
 * and starting it with a config file written for it, waiting until it is ready. A build failure throws with the script's output, so a test that needs the binary
 * fails instead of skipping.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root, found from this file whether it runs from test/ or build/test/. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'scripts', 'build-collector.sh'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`test helpers: no scripts/build-collector.sh above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/**
 * Runs `scripts/<scriptName>` (a no-op when its cached binary exists) with `env` added to the
 * environment; resolves to the binary's path, the last line the script prints. `what` names the
 * binary in the error.
 */
export function buildGoBinary(scriptName: string, what: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const script = path.join(repoRoot(), 'scripts', scriptName);
    execFile('bash', [script], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const lines = stdout.trim().split('\n');
      const binary = lines[lines.length - 1];
      if (error || !binary || !fs.existsSync(binary)) {
        reject(new Error(`building ${what} failed (${error?.message ?? 'no binary'}):\n${stderr}\n${stdout}`));
        return;
      }
      resolve(binary);
    });
  });
}

/** A started process that can tell when it is ready. */
export interface Startable {
  waitUntilReady(timeoutMillis: number): Promise<void>;
  stop(): Promise<unknown>;
}

/**
 * Writes `config` (as JSON, which the Go binaries' YAML loaders read as well) to a fresh temporary
 * directory named after `tmpPrefix`, starts `binary --config <file> ...extraArgs`, wraps it with
 * `wrap` and waits until it is ready; stops it when it does not get ready in time.
 */
export async function launchWithConfig<T extends Startable>(
  binary: string,
  config: object,
  options: { tmpPrefix: string; extraArgs?: readonly string[]; startTimeoutMillis: number },
  wrap: (child: ChildProcess, configPath: string) => T,
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), options.tmpPrefix));
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(binary, ['--config', configPath, ...(options.extraArgs ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  const running = wrap(child, configPath);
  try {
    await running.waitUntilReady(options.startTimeoutMillis);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return running;
}
