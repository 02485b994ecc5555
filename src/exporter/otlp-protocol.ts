/*
 * The names of the OTLP protocols and compressions the exporter speaks. A file of its own so that
 * the options (exporter-options.ts) and the environment reader (exporter-env.ts) both import it
 * and not each other.
 */

/** OTLP/HTTP with a binary protobuf body or an OTLP JSON body, or OTLP/gRPC. */
export type OTLPProfileProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type OTLPProfileCompression = 'gzip' | 'none';
