import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OTLPProfileExporterOptions } from '../../src/exporter/exporter-options';
import { createHttpTransport } from '../../src/exporter/http-transport';
import { describeFailure, OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import type { SpanProfile } from '../../src/profile/span-profile';
import { useForwardingCollector } from '../helpers/forwarding-collector';
import { makeProfile, START_UNIX_NANO } from '../helpers/synthetic-profiles';

/** Two profiles whose resource names a marker, so the forwarded copy can be found. */
function markedProfiles(marker: string): SpanProfile[] {
  return [0, 1].map((i) => ({ ...makeProfile(i, 4), resource: { attributes: { 'service.name': marker } } }));
}

function exportWith(options: OTLPProfileExporterOptions, profiles: SpanProfile[]): Promise<ExportResult> {
  const exporter = new OTLPProfileExporter(options);
  return new Promise<ExportResult>((resolve) => exporter.export(profiles, resolve)).finally(() => exporter.shutdown());
}

describe('OTLPProfileExporter against the OpenTelemetry Collector', function () {
  // The Collector forwards what it received, with its own otlp_http exporter, to a loopback sink.
  const forwarding = useForwardingCollector();
  const forwardedContaining = async (marker: string): Promise<string> => JSON.stringify(await forwarding.forwardedProfiles(marker));

  const variants: OTLPProfileExporterOptions[] = [
    { protocol: 'http/protobuf', compression: 'none' },
    { protocol: 'http/protobuf', compression: 'gzip' },
    { protocol: 'http/json', compression: 'none' },
    { protocol: 'http/json', compression: 'gzip' },
  ];
  for (const variant of variants) {
    it(`should be accepted and forwarded intact with ${variant.protocol}, compression ${variant.compression}`, async () => {
      const marker = `collector-${randomBytes(4).toString('hex')}`;
      const result = await exportWith(
        { url: `${forwarding.collector.endpoint}/v1development/profiles`, ...variant },
        markedProfiles(marker),
      );
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      const forwarded = await forwardedContaining(marker);
      // The exact 64-bit timestamp survived both hops.
      assert.ok(forwarded.includes(`"${START_UNIX_NANO}"`), 'first sample timestamp missing');
      assert.deepEqual(forwarding.collector.errorLines(), []);
    });
  }

  it("should report the Collector's refusal of a wrong path at once, without retrying", async () => {
    // /v1/profiles is the path some older docs give; the receiver only serves /v1development/profiles.
    const url = `${forwarding.collector.endpoint}/v1/profiles`;
    const result = await exportWith({ url, timeoutMillis: 5000 }, markedProfiles('wrong-path'));
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.equal(
      result.error?.message,
      `OTLPProfileExporter: ${url} refused 2 profiles: HTTP 404 Not Found: 404 page not found; not retrying`,
    );
  });

  const malformed: Array<{ contentType: string; body: Buffer; reason: RegExp }> = [
    { contentType: 'application/x-protobuf', body: Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]), reason: /^proto: illegal wireType 7$/ },
    { contentType: 'application/json', body: Buffer.from('{"resourceProfiles": 5}'), reason: /\S/ },
  ];
  for (const { contentType, body, reason } of malformed) {
    it(`should quote the reason of the Collector's 400 for a malformed ${contentType} body`, async () => {
      const transport = createHttpTransport({
        url: `${forwarding.collector.endpoint}/v1development/profiles`,
        headers: { 'content-type': contentType },
        compression: 'none',
      });
      try {
        const response = await transport.send(body, 5000);
        assert.equal(response.status, 'failure');
        const described = response.status === 'failure' ? describeFailure(response.error) : '';
        const prefix = 'HTTP 400 Bad Request: ';
        assert.ok(described.startsWith(prefix), described);
        assert.match(described.slice(prefix.length), reason);
      } finally {
        transport.shutdown();
      }
    });
  }
});
