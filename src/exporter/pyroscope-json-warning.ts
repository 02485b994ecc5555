import type { OTLPProfileProtocol } from './otlp-protocol';

/** Grafana Pyroscope's default HTTP port, where it serves OTLP/HTTP profiles. */
const PYROSCOPE_HTTP_PORT = '4040';

/**
 * The warning for OTLP/JSON sent to what looks like Grafana Pyroscope, or undefined (issue 22).
 *
 * OTLP/JSON writes trace and span IDs as hex, as the OTLP specification says; Pyroscope (v1.21)
 * decodes OTLP/JSON with plain protobuf JSON, which reads them as base64, so no span query finds
 * the samples. Pyroscope serves OTLP on the standard path, `POST /v1development/profiles`, the same
 * as a Collector's receiver, where OTLP/JSON is right: the path cannot tell them apart. Its default
 * port (4040) and a host name that names it can, so those are what this looks at.
 */
export function pyroscopeJsonWarning(url: string, protocol: OTLPProfileProtocol): string | undefined {
  if (protocol !== 'http/json') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const namedHost = parsed.hostname.toLowerCase().includes('pyroscope');
  if (!namedHost && parsed.port !== PYROSCOPE_HTTP_PORT) return undefined;
  const why = namedHost ? 'its host name' : `port ${PYROSCOPE_HTTP_PORT}`;
  // Origin and path only: user info or a query may hold a credential.
  return (
    `protocol 'http/json' to ${parsed.origin}${parsed.pathname}, which looks like Grafana Pyroscope (${why}): ` +
    "Pyroscope reads the hex trace and span IDs of OTLP/JSON as base64, so no span query finds these samples; use protocol 'http/protobuf'"
  );
}
