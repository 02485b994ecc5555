import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OTLPProfileExporterOptions } from '../../src/exporter/exporter-options';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import { DiagRecorder } from '../helpers/diag-recorder';
import { CERTS_DIR } from './grpc-collector';
import { makeProfiles } from '../helpers/synthetic-profiles';

const ENV_KEYS = [
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_PROFILES_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_PROFILES_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY',
];
const cert = (name: string): string => path.join(CERTS_DIR, name);

describe('OTLPProfileExporter over HTTPS (loopback server with mutual TLS)', () => {
  let server: https.Server;
  let url: string;
  let clients: string[];
  let recorder: DiagRecorder;

  beforeEach(async () => {
    recorder = new DiagRecorder().install();
    clients = [];
    server = https.createServer(
      {
        key: readFileSync(cert('server.key')),
        cert: readFileSync(cert('server.pem')),
        ca: readFileSync(cert('ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
        req.resume().on('end', () => res.end());
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}/v1development/profiles`;
  });

  afterEach(async () => {
    for (const key of ENV_KEYS) delete process.env[key];
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    recorder.uninstall();
  });

  async function exportWith(options: OTLPProfileExporterOptions): Promise<ExportResult> {
    const exporter = new OTLPProfileExporter({ url, timeoutMillis: 3000, ...options });
    try {
      return await new Promise<ExportResult>((resolve) => exporter.export(makeProfiles(2), resolve));
    } finally {
      await exporter.shutdown();
    }
  }

  it('should trust OTEL_EXPORTER_OTLP_CERTIFICATE and present the client certificate from the PROFILES variables', async () => {
    process.env.OTEL_EXPORTER_OTLP_CERTIFICATE = cert('ca.pem');
    process.env.OTEL_EXPORTER_OTLP_PROFILES_CLIENT_CERTIFICATE = cert('client.pem');
    process.env.OTEL_EXPORTER_OTLP_PROFILES_CLIENT_KEY = cert('client.key');
    const result = await exportWith({});
    assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
    assert.deepEqual(clients, ['otel-span-profiler test client']);
    assert.deepEqual(recorder.messages(), []);
  });

  it('should take the same TLS material from httpAgentOptions in code', async () => {
    const result = await exportWith({
      httpAgentOptions: { ca: readFileSync(cert('ca.pem')), cert: readFileSync(cert('client.pem')), key: readFileSync(cert('client.key')) },
    });
    assert.equal(result.code, ExportResultCode.SUCCESS, result.error?.message);
    assert.deepEqual(clients, ['otel-span-profiler test client']);
  });

  it('should fail without retrying when the server certificate is not trusted', async () => {
    const result = await exportWith({});
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.match(
      result.error!.message,
      /refused 2 profiles: unable to verify the first certificate|self[- ]signed|unable to get local issuer certificate/,
    );
    assert.deepEqual(clients, []);
  });
});
