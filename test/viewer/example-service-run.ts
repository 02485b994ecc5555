/*
 * Runs examples/service.js for real (the built package, real sampling, real HTTP load) and
 * returns where its telemetry went: OTLP JSON files by default, or an OTLP endpoint.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..');
const { runLoad } = require(join(REPO, 'examples', 'load.js')) as {
  runLoad(
    baseUrl: string,
    options: { durationMillis: number; concurrency: number; maxRequests: number },
  ): Promise<{ ok: number; failed: number }>;
};

export interface ServiceRun {
  readonly dir: string;
  readonly profilesFile: string;
  readonly tracesFile: string;
  readonly requests: number;
}

/** Starts the example service, sends it `seconds` of load, stops it and waits for its flush. */
export async function runExampleService(options: { seconds?: number; otlpEndpoint?: string } = {}): Promise<ServiceRun> {
  const dir = mkdtempSync(join(tmpdir(), 'osp-viewer-'));
  const profilesFile = join(dir, 'profiles.jsonl');
  const tracesFile = join(dir, 'traces.jsonl');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PROFILES_FILE: profilesFile,
    TRACES_FILE: tracesFile,
    OTEL_SERVICE_NAME: 'viewer-test-service',
  };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete env.OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT;
  if (options.otlpEndpoint !== undefined) {
    env.OTEL_EXPORTER_OTLP_ENDPOINT = options.otlpEndpoint;
    // The trace exporter's default is JSON; send protobuf profiles and JSON traces, both formats.
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'http/json';
  }
  const child = spawn(process.execPath, [join(REPO, 'examples', 'service.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the example service exited (code ${code}) before listening`)));
  });
  const load = await runLoad(baseUrl, { durationMillis: (options.seconds ?? 3) * 1000, concurrency: 4, maxRequests: 1500 });
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`the example service exited with code ${code}`);
  return { dir, profilesFile, tracesFile, requests: load.ok };
}
