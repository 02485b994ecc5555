import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { DEFAULT_PROFILES_FILE_PATH, FileProfileExporter } from '../../src/exporter/file-profile-exporter';
import { DiagRecorder } from '../helpers/diag-recorder';
import { makeProfiles, START_UNIX_NANO, TRACE_ID } from '../helpers/synthetic-profiles';

interface JsonRequest {
  resourceProfiles: Array<{ scopeProfiles: Array<{ profiles: Array<{ samples: Array<{ timestampsUnixNano: string[] }> }> }> }>;
  dictionary: { linkTable: Array<{ traceId?: string }> };
}

function exportTo(exporter: FileProfileExporter, count: number): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(makeProfiles(count), resolve));
}

describe('FileProfileExporter', () => {
  let dir: string;
  let recorder: DiagRecorder;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'file-profile-exporter-'));
    recorder = new DiagRecorder().install();
  });

  afterEach(() => {
    recorder.uninstall();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('export', () => {
    it('should append one OTLP JSON request per export, one per line', async () => {
      const filePath = path.join(dir, 'profiles.jsonl');
      const exporter = new FileProfileExporter({ filePath });
      assert.equal((await exportTo(exporter, 2)).code, ExportResultCode.SUCCESS);
      assert.equal((await exportTo(exporter, 1)).code, ExportResultCode.SUCCESS);
      await exporter.shutdown();
      const lines = readFileSync(filePath, 'utf8').split('\n');
      assert.equal(lines.pop(), '', 'the file ends with a newline');
      const requests = lines.map((line) => JSON.parse(line) as JsonRequest);
      assert.deepEqual(
        requests.map((r) => r.resourceProfiles[0].scopeProfiles[0].profiles.length),
        [2, 1],
      );
      assert.ok(requests[0].dictionary.linkTable.some((link) => link.traceId === TRACE_ID));
      const timestamps = requests[1].resourceProfiles[0].scopeProfiles[0].profiles[0].samples.flatMap((s) => s.timestampsUnixNano);
      assert.ok(timestamps.includes(START_UNIX_NANO.toString()));
    });

    it('should keep what the file already holds', async () => {
      const filePath = path.join(dir, 'profiles.jsonl');
      const first = new FileProfileExporter({ filePath });
      await exportTo(first, 1);
      await first.shutdown();
      const second = new FileProfileExporter({ filePath });
      await exportTo(second, 1);
      await second.shutdown();
      assert.equal(readFileSync(filePath, 'utf8').trim().split('\n').length, 2);
    });

    it('should write concurrent exports as whole lines in export order', async () => {
      const filePath = path.join(dir, 'profiles.jsonl');
      const exporter = new FileProfileExporter({ filePath });
      const results = await Promise.all([1, 2, 3, 4].map((count) => exportTo(exporter, count)));
      await exporter.shutdown();
      assert.ok(results.every((r) => r.code === ExportResultCode.SUCCESS));
      const counts = readFileSync(filePath, 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as JsonRequest).resourceProfiles[0].scopeProfiles[0].profiles.length);
      assert.deepEqual(counts, [1, 2, 3, 4]);
    });

    it('should fail the export, not throw, when the file cannot be opened', async () => {
      const exporter = new FileProfileExporter({ filePath: path.join(dir, 'missing-dir', 'profiles.jsonl') });
      const result = await exportTo(exporter, 1);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(result.error?.message ?? '', /^FileProfileExporter: could not encode or write 1 profile to .*missing-dir.*ENOENT/);
      await exporter.shutdown();
    });

    it('should refuse exports after shutdown', async () => {
      const exporter = new FileProfileExporter({ filePath: path.join(dir, 'p.jsonl') });
      await exporter.shutdown();
      const result = await exportTo(exporter, 1);
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.equal(result.error?.message, 'FileProfileExporter is shut down');
    });
  });

  describe('filePath', () => {
    it(`should default to ${DEFAULT_PROFILES_FILE_PATH} in the working directory`, () => {
      assert.equal(new FileProfileExporter().filePath, path.resolve(DEFAULT_PROFILES_FILE_PATH));
    });

    it('should throw a TypeError naming filePath for a bad value, logging nothing', () => {
      for (const filePath of [42, '']) {
        assert.throws(() => new FileProfileExporter({ filePath: filePath as never }), {
          name: 'TypeError',
          message: `FileProfileExporter: option "filePath" must be a non-empty string, got ${filePath === '' ? "''" : '42'}`,
        });
      }
      assert.throws(() => new FileProfileExporter({ resourceWaitMillis: -1 }), {
        name: 'RangeError',
        message: 'FileProfileExporter: option "resourceWaitMillis" must be a number >= 0, got -1',
      });
      assert.deepEqual(recorder.messages(), []);
    });
  });
});
