import * as assert from 'node:assert';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

/**
 * Issue #21 §1: a first `npm test` on a busy 2-core machine died with SIGABRT (exit 134, no
 * message) in the real-sampling suites, after two `before all` hooks had failed. The probe engine must never abort its host, however its sampler is
 * stopped (by shutdown() while probes are in flight or while the worker is still starting,
 * with other processors left sampling, or by the process ending under it), nor where its probe
 * lands (inside the application's Error.prepareStackTrace). Most cases run
 * test/fixtures/sampler-churn.js in a child process and assert how that process ended.
 * bench/abort-stress.js runs the same fixture (and the suites) many times per Node version.
 */
describe('ProbeSampler never aborts its host (child processes, issue #21 §1)', function () {
  const repo = path.join(__dirname, '..', '..', '..', '..');
  // The compiled library as the tests see it (build/src), exporting the processor and the exporter.
  const library = require.resolve('../../../src/index');

  /** Runs the churn fixture; resolves to its exit code, signal and output. */
  async function churn(
    cycles: number,
    leaked: number,
    end: 'natural' | 'exit' | 'throw' | 'signal',
  ): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
    const child = spawn(
      process.execPath,
      [path.join(repo, 'test', 'fixtures', 'sampler-churn.js'), library, String(cycles), String(leaked), end],
      {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A guard, not a timing claim: a process held open by a worker would never exit.
    const guard = setTimeout(() => child.kill('SIGKILL'), 100_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(guard);
    return { code, signal, stdout, stderr };
  }

  function assertSampled(stdout: string, stderr: string): void {
    assert.match(stdout, /cycles=\d+ probes=[1-9]/, `the fixture took no sample, so it proved nothing: ${stdout}${stderr}`);
  }

  it("should probe inside the application's Error.prepareStackTrace without changing the stacks it formats", async function () {
    // Probes there capture a stack while V8 formats another one (a re-entrant capture).
    this.timeout(120_000);
    const child = spawn(process.execPath, [path.join(repo, 'test', 'fixtures', 'probe-in-prepare-stack-trace.js'), library], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), 100_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(guard);
    assert.strictEqual(signal, null, `killed by ${signal}: ${output}`);
    assert.strictEqual(code, 0, output);
    assert.match(output, /samples=([1-9]\d+) inside=\d+ program=\d+ stacks=ok/, output);
  });

  it('should survive shutdowns at every stage of the sampler, with processors left sampling, and let the process end by itself', async function () {
    this.timeout(120_000);
    const { code, signal, stdout, stderr } = await churn(8, 2, 'natural');
    assert.strictEqual(signal, null, `killed by ${signal}: ${stdout}${stderr}`);
    assert.strictEqual(code, 0, stdout + stderr);
    assertSampled(stdout, stderr);
  });

  it('should let process.exit() end a process with several samplers probing it', async function () {
    this.timeout(120_000);
    const { code, signal, stdout, stderr } = await churn(2, 2, 'exit');
    assert.strictEqual(signal, null, `killed by ${signal}: ${stdout}${stderr}`);
    assert.strictEqual(code, 0, stdout + stderr);
    assertSampled(stdout, stderr);
  });

  it('should let an uncaught exception end the process with exit code 1, not an abort', async function () {
    this.timeout(120_000);
    const { code, signal, stdout, stderr } = await churn(2, 2, 'throw');
    assert.strictEqual(signal, null, `killed by ${signal}: ${stdout}${stderr}`);
    assert.strictEqual(code, 1, stdout + stderr);
    assert.match(stderr, /uncaught, on purpose/);
    assertSampled(stdout, stderr);
  });

  it('should let SIGTERM end the process by its default action while it samples', async function () {
    this.timeout(120_000);
    const { signal, stdout, stderr } = await churn(2, 2, 'signal');
    assert.strictEqual(signal, 'SIGTERM', `ended by ${signal}: ${stdout}${stderr}`);
    assertSampled(stdout, stderr);
  });
});
