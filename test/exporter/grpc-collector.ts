import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCollector, collectorConfig, RunningCollector } from '../helpers/collector';
import { decodeWithProtoc, type Decoded } from '../helpers/decode-protoc';
import { LoopbackServer } from '../helpers/loopback-server';

/** Test-only TLS material (see fixtures/certs/README.md). */
export const CERTS_DIR = path.join(__dirname, '..', '..', '..', 'test', 'exporter', 'fixtures', 'certs');

/** How the Collector's OTLP/gRPC receiver listens. */
export interface GrpcReceiverOptions {
  /** Serve TLS with fixtures/certs/server.pem. */
  readonly tls?: boolean;
  /** Also require a client certificate signed by fixtures/certs/ca.pem (mutual TLS). */
  readonly requireClientCertificate?: boolean;
}

/** A Collector with OTLP/gRPC (and OTLP/HTTP) receivers, forwarding profiles to a loopback sink. */
export interface GrpcCollector {
  readonly sink: LoopbackServer;
  /** `127.0.0.1:<port>` of the gRPC receiver. */
  readonly grpcAddress: string;
  readonly collector: RunningCollector;
  /** The first profiles request forwarded to the sink that contains `marker`, decoded by protoc. */
  forwardedProfiles(marker: string): Promise<Decoded>;
}

/**
 * Registers mocha hooks in the calling `describe`: build the Collector (fails, never skips), start
 * it with a gRPC receiver on a free loopback port before the tests, stop it and the sink after.
 */
export function useGrpcCollector(options: GrpcReceiverOptions = {}): GrpcCollector {
  const sink = new LoopbackServer();
  let running: RunningCollector | undefined;
  let grpcAddress: string | undefined;

  before(async function () {
    this.timeout(30 * 60_000);
    await buildCollector();
    this.timeout(120_000);
    await sink.start();
    ({ running, grpcAddress } = await startGrpcCollector(sink.origin, options));
  });

  after(async function () {
    this.timeout(30_000);
    await running?.stop();
    await sink.stop();
  });

  return {
    sink,
    get grpcAddress(): string {
      if (grpcAddress === undefined) throw new Error('the Collector is not running');
      return grpcAddress;
    },
    get collector(): RunningCollector {
      if (running === undefined) throw new Error('the Collector is not running');
      return running;
    },
    async forwardedProfiles(marker: string): Promise<Decoded> {
      const deadline = Date.now() + 15_000;
      for (;;) {
        for (const request of sink.requests) {
          if (request.path !== '/v1development/profiles') continue;
          const decoded = decodeWithProtoc(request.body);
          if (JSON.stringify(decoded).includes(marker)) return decoded;
        }
        if (Date.now() > deadline) throw new Error(`the Collector forwarded nothing with ${marker}`);
        await new Promise(resolve => setTimeout(resolve, 50));
      }
    },
  };
}

async function startGrpcCollector(forwardTo: string, options: GrpcReceiverOptions): Promise<{ running: RunningCollector; grpcAddress: string }> {
  const binary = await buildCollector();
  const config = collectorConfig(0, { forwardTo, debugVerbosity: 'basic' }) as { receivers: { otlp: { protocols: Record<string, object> } } };
  const grpc: Record<string, unknown> = { endpoint: '127.0.0.1:0' };
  if (options.tls) {
    grpc.tls = {
      cert_file: path.join(CERTS_DIR, 'server.pem'),
      key_file: path.join(CERTS_DIR, 'server.key'),
      ...(options.requireClientCertificate ? { client_ca_file: path.join(CERTS_DIR, 'ca.pem') } : {}),
    };
  }
  config.receivers.otlp.protocols.grpc = grpc;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otelcol-grpc-'));
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(binary, ['--config', configPath, '--feature-gates=service.profilesSupport'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const running = new RunningCollector(child, configPath);
  try {
    // Ready once the HTTP receiver is (both start together); the gRPC port is in its own log record.
    await running.waitUntilReady(60_000);
    const line = running.stderr.split('\n').find(l => l.includes('Starting GRPC server'));
    const endpoint = line === undefined ? undefined : String((JSON.parse(line) as { endpoint?: unknown }).endpoint);
    if (endpoint === undefined || !/:\d+$/.test(endpoint)) throw new Error(`no gRPC endpoint in the Collector's log:\n${running.stderr}`);
    return { running, grpcAddress: endpoint };
  } catch (error) {
    await running.stop();
    throw error;
  }
}
