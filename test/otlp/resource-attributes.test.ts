import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { FileProfileExporter } from '../../src/exporter/file-profile-exporter';
import { decodeRequestJson } from '../helpers/otlp-decoding';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import type { ProfileExporter } from '../../src/exporter/profile-exporter';
import type { SpanProfile } from '../../src/profile/span-profile';
import { decodeWithBuf } from '../helpers/decode-buf';
import { DiagRecorder } from '../helpers/diag-recorder';
import { LoopbackServer } from '../helpers/loopback-server';
import { makeProfile } from '../helpers/synthetic-profiles';

const SDK_ERROR = 'Accessing resource attributes before async attributes settled';

/** A resource whose `host.id` comes from an async detector that settles after `millis`. */
function lateResource(millis: number) {
  return resourceFromAttributes({
    'service.name': 'late-resource',
    'host.id': new Promise<string>((resolve) => setTimeout(() => resolve('host-from-async-detector'), millis)),
  });
}

function exportOnce(exporter: ProfileExporter, profiles: SpanProfile[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(profiles, resolve));
}

describe('exporters and async resource attributes (issue #9.9)', function () {
  this.timeout(20_000);
  let recorder: DiagRecorder;
  let server: LoopbackServer;

  beforeEach(async () => {
    recorder = new DiagRecorder().install();
    server = await new LoopbackServer().start();
  });

  afterEach(async () => {
    await server.stop();
    recorder.uninstall();
  });

  describe('OTLPProfileExporter', () => {
    it('should wait for async attributes that settle late, so host.id is exported and the SDK logs no error', async () => {
      const resource = lateResource(300);
      assert.equal(resource.asyncAttributesPending, true);
      const exporter = new OTLPProfileExporter({ url: server.profilesUrl });
      const result = await exportOnce(exporter, [{ ...makeProfile(0), resource }]);
      await exporter.shutdown();
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      const sent = JSON.stringify(decodeWithBuf(server.requests[0].body));
      assert.ok(sent.includes('host-from-async-detector'), 'host.id missing from the exported resource');
      assert.deepEqual(recorder.messages('error'), []);
    });

    it('should wait no longer than half the export timeout, then export without the pending attributes and warn once', async () => {
      const never = resourceFromAttributes({ 'service.name': 'stuck', 'host.id': new Promise<string>(() => undefined) });
      const exporter = new OTLPProfileExporter({ url: server.profilesUrl, timeoutMillis: 1000 });
      const first = await exportOnce(exporter, [{ ...makeProfile(0), resource: never }]);
      const second = await exportOnce(exporter, [{ ...makeProfile(1), resource: never }]);
      await exporter.shutdown();
      assert.deepEqual(
        [first.code, second.code],
        [ExportResultCode.SUCCESS, ExportResultCode.SUCCESS],
        `${first.error?.message} / ${second.error?.message}`,
      );
      assert.equal(server.requests.length, 2);
      assert.ok(JSON.stringify(decodeWithBuf(server.requests[0].body)).includes('"stuck"'));
      assert.deepEqual(recorder.messages('warn'), [
        "the resource's async attributes had not settled within half the export timeout (500 ms); exporting without them",
      ]);
    });
  });

  describe('FileProfileExporter', () => {
    it('should write host.id from async attributes that settle late', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'late-resource-'));
      try {
        const exporter = new FileProfileExporter({ filePath: path.join(dir, 'profiles.jsonl') });
        const result = await exportOnce(exporter, [{ ...makeProfile(0), resource: lateResource(300) }]);
        await exporter.shutdown();
        assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
        const request = decodeRequestJson(readFileSync(exporter.filePath, 'utf8').trim());
        const attributes = request.resourceProfiles[0].resource.attributes;
        assert.deepEqual(attributes.find((a) => a.key === 'host.id')?.value, { stringValue: 'host-from-async-detector' });
        assert.ok(!recorder.messages('error').includes(SDK_ERROR));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
