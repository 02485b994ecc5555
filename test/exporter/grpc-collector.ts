import * as path from 'node:path';
import { collectorConfig, startCollectorWithConfig, type RunningCollector } from '../helpers/collector';
import { useForwardingCollector, type ForwardingCollector } from '../helpers/forwarding-collector';

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
export interface GrpcCollector extends ForwardingCollector {
  /** `127.0.0.1:<port>` of the gRPC receiver. */
  readonly grpcAddress: string;
}

/**
 * Registers mocha hooks in the calling `describe`: build the Collector (fails, never skips), start
 * it with a gRPC receiver on a free loopback port before the tests, stop it and the sink after.
 */
export function useGrpcCollector(options: GrpcReceiverOptions = {}): GrpcCollector {
  const forwarding = useForwardingCollector((forwardTo) => startGrpcCollector(forwardTo, options));
  return {
    sink: forwarding.sink,
    get grpcAddress(): string {
      return grpcAddressOf(forwarding.collector);
    },
    get collector(): RunningCollector {
      return forwarding.collector;
    },
    forwardedProfiles: (marker) => forwarding.forwardedProfiles(marker),
  };
}

/** The gRPC receiver's `127.0.0.1:<port>`, from its own log record; throws with the log when there is none. */
function grpcAddressOf(running: RunningCollector): string {
  const line = running.stderr.split('\n').find((l) => l.includes('Starting GRPC server'));
  const endpoint = line === undefined ? undefined : String((JSON.parse(line) as { endpoint?: unknown }).endpoint);
  if (endpoint === undefined || !/:\d+$/.test(endpoint)) throw new Error(`no gRPC endpoint in the Collector's log:\n${running.stderr}`);
  return endpoint;
}

async function startGrpcCollector(forwardTo: string, options: GrpcReceiverOptions): Promise<RunningCollector> {
  const config = collectorConfig(0, { forwardTo, debugVerbosity: 'basic' }) as {
    receivers: { otlp: { protocols: Record<string, object> } };
  };
  const grpc: Record<string, unknown> = { endpoint: '127.0.0.1:0' };
  if (options.tls) {
    grpc.tls = {
      cert_file: path.join(CERTS_DIR, 'server.pem'),
      key_file: path.join(CERTS_DIR, 'server.key'),
      ...(options.requireClientCertificate ? { client_ca_file: path.join(CERTS_DIR, 'ca.pem') } : {}),
    };
  }
  config.receivers.otlp.protocols.grpc = grpc;
  const running = await startCollectorWithConfig(config, 'otelcol-grpc-');
  try {
    // Ready once the HTTP receiver is (both start together); the gRPC port is in its own log record.
    grpcAddressOf(running);
    return running;
  } catch (error) {
    await running.stop();
    throw error;
  }
}
