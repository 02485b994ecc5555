import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import * as core from '@opentelemetry/core';
import { ExportResultCode, globalErrorHandler, parseKeyPairsIntoRecord, suppressTracing } from '../../src/shared/otel-core';

// build/test/shared/ -> the repository root.
const REPO = path.join(__dirname, '..', '..', '..');

describe('otel-core (what we use of @opentelemetry/core, an optional peer)', () => {
  it('should give the same export result codes as core', () => {
    assert.deepEqual([ExportResultCode.SUCCESS, ExportResultCode.FAILED], [core.ExportResultCode.SUCCESS, core.ExportResultCode.FAILED]);
  });

  it('should suppress tracing the way core reads it', () => {
    assert.equal(core.isTracingSuppressed(suppressTracing(ROOT_CONTEXT)), true);
    assert.equal(core.isTracingSuppressed(ROOT_CONTEXT), false);
  });

  it("should hand errors to the handler set with core's setGlobalErrorHandler", () => {
    const seen: unknown[] = [];
    core.setGlobalErrorHandler((error) => seen.push(error));
    try {
      const error = new Error('export failed');
      globalErrorHandler(error);
      assert.deepEqual(seen, [error]);
      core.setGlobalErrorHandler(() => {
        throw new Error('a handler that throws');
      });
      assert.doesNotThrow(() => globalErrorHandler(new Error('again')));
    } finally {
      core.setGlobalErrorHandler(core.loggingErrorHandler());
    }
  });

  describe('parseKeyPairsIntoRecord', () => {
    const cases = [
      '',
      'a=1',
      'a=1,b=2',
      ' a = 1 , b=2 ',
      'Authorization=Basic%20dXNlcjpwYXNz',
      'k=v;prop=1;other,x=y',
      'no-equals-sign,=novalue,nokey=,x=1',
      'x-bad=%E0%A4%A,x-good=1',
      '%6B=%76',
      'a=1,a=2',
      'a=%20',
      'a==b',
      ',,,a=1,,',
    ];
    for (const input of cases) {
      it(`should read ${JSON.stringify(input)} as core does`, () => {
        assert.deepEqual(parseKeyPairsIntoRecord(input), core.parseKeyPairsIntoRecord(input));
      });
    }
  });

  it('should let the package load and export without @opentelemetry/core installed (issue 21 §4)', () => {
    // A child process in which core cannot be resolved, as under pnpm or Yarn PnP when the application lists no core.
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === '@opentelemetry/core' || request.startsWith('@opentelemetry/core/')) {
          const error = new Error("Cannot find module '" + request + "'");
          error.code = 'MODULE_NOT_FOUND';
          throw error;
        }
        return resolve.call(this, request, ...rest);
      };
      const lib = require(${JSON.stringify(path.join(REPO, 'dist', 'index.js'))});
      const exporter = new lib.InMemoryProfileExporter();
      new lib.OTLPProfileExporter({ url: 'http://127.0.0.1:9/v1development/profiles' });
      exporter.export([], (result) => {
        if (result.code !== 0) throw new Error('export failed');
        process.stdout.write('loaded and exported');
      });
    `;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: REPO });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'loaded and exported');
  });
});
