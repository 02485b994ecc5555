import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OTLPProfileExporterOptions } from '../../src/exporter/exporter-options';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import type { SpanProfile } from '../../src/profile/span-profile';
import { CERTS_DIR, useGrpcCollector } from './grpc-collector';
import { makeProfile, START_UNIX_NANO } from '../helpers/synthetic-profiles';

const ENV_KEYS = [
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_INSECURE',
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_PROFILES_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_PROFILES_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY',
];

function markedProfiles(marker: string): SpanProfile[] {
  return [0, 1].map((i) => ({ ...makeProfile(i, 4), resource: { attributes: { 'service.name': marker } } }));
}

async function exportWith(options: OTLPProfileExporterOptions, profiles: SpanProfile[]): Promise<ExportResult> {
  const exporter = new OTLPProfileExporter(options);
  try {
    return await new Promise<ExportResult>((resolve) => exporter.export(profiles, resolve));
  } finally {
    await exporter.shutdown();
  }
}

function marker(): string {
  return `grpc-${randomBytes(4).toString('hex')}`;
}

afterEach(() => {
  for (const key of ENV_KEYS) delete process.env[key];
});

describe('OTLPProfileExporter over gRPC against the OpenTelemetry Collector', function () {
  describe('plaintext receiver', function () {
    const grpc = useGrpcCollector();

    for (const compression of ['none', 'gzip'] as const) {
      it(`should be accepted and forwarded intact with compression ${compression}`, async () => {
        const m = marker();
        const result = await exportWith({ protocol: 'grpc', url: `http://${grpc.grpcAddress}`, compression }, markedProfiles(m));
        assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
        const forwarded = JSON.stringify(await grpc.forwardedProfiles(m));
        // The exact 64-bit timestamp survived both hops.
        assert.ok(forwarded.includes(`"${START_UNIX_NANO}"`), 'first sample timestamp missing');
        assert.deepEqual(grpc.collector.errorLines(), []);
      });
    }

    it('should take grpc and the endpoint from OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL and OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
      process.env.OTEL_EXPORTER_OTLP_PROFILES_PROTOCOL = 'grpc';
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://${grpc.grpcAddress}`;
      const m = marker();
      const result = await exportWith({}, markedProfiles(m));
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      await grpc.forwardedProfiles(m);
    });

    it('should connect in plaintext to host:port with OTEL_EXPORTER_OTLP_INSECURE=true', async () => {
      process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
      process.env.OTEL_EXPORTER_OTLP_INSECURE = 'true';
      const m = marker();
      const result = await exportWith({ url: grpc.grpcAddress }, markedProfiles(m));
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      await grpc.forwardedProfiles(m);
    });

    it('should fail, not throw, when TLS is asked of a plaintext receiver', async () => {
      const result = await exportWith(
        { protocol: 'grpc', url: `https://${grpc.grpcAddress}`, timeoutMillis: 1500 },
        markedProfiles(marker()),
      );
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(
        result.error!.message,
        /^OTLPProfileExporter: could not send 2 profiles to https:\/\/127\.0\.0\.1:\d+: gRPC status UNAVAILABLE \(14\)/,
      );
    });
  });

  describe('TLS receiver', function () {
    const grpc = useGrpcCollector({ tls: true });

    it('should connect with TLS to host:port, trusting OTEL_EXPORTER_OTLP_CERTIFICATE', async () => {
      process.env.OTEL_EXPORTER_OTLP_CERTIFICATE = path.join(CERTS_DIR, 'ca.pem');
      const m = marker();
      const result = await exportWith({ protocol: 'grpc', url: grpc.grpcAddress.replace('127.0.0.1', 'localhost') }, markedProfiles(m));
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      await grpc.forwardedProfiles(m);
    });

    it('should refuse a server certificate it does not trust', async () => {
      const result = await exportWith(
        { protocol: 'grpc', url: `https://${grpc.grpcAddress}`, timeoutMillis: 1500 },
        markedProfiles(marker()),
      );
      assert.equal(result.code, ExportResultCode.FAILED);
      assert.match(result.error!.message, /gRPC status UNAVAILABLE \(14\)/);
    });
  });

  describe('mutual TLS receiver', function () {
    const grpc = useGrpcCollector({ tls: true, requireClientCertificate: true });

    it('should present the client certificate named by OTEL_EXPORTER_OTLP_PROFILES_CLIENT_CERTIFICATE and ..._CLIENT_KEY', async () => {
      process.env.OTEL_EXPORTER_OTLP_PROFILES_CERTIFICATE = path.join(CERTS_DIR, 'ca.pem');
      process.env.OTEL_EXPORTER_OTLP_PROFILES_CLIENT_CERTIFICATE = path.join(CERTS_DIR, 'client.pem');
      process.env.OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY = path.join(CERTS_DIR, 'client.key');
      const m = marker();
      const result = await exportWith({ protocol: 'grpc', url: `https://localhost:${grpc.grpcAddress.split(':')[1]}` }, markedProfiles(m));
      assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
      await grpc.forwardedProfiles(m);
    });

    it('should be refused without a client certificate', async () => {
      process.env.OTEL_EXPORTER_OTLP_CERTIFICATE = path.join(CERTS_DIR, 'ca.pem');
      const result = await exportWith(
        { protocol: 'grpc', url: `https://localhost:${grpc.grpcAddress.split(':')[1]}`, timeoutMillis: 1500 },
        markedProfiles(marker()),
      );
      assert.equal(result.code, ExportResultCode.FAILED);
    });
  });
});
