import type * as Protobuf from 'protobufjs';

const SERVICE_PACKAGE = 'opentelemetry.proto.collector.profiles.v1development';

/** The OTLP messages this package encodes and decodes, as protobufjs reflection types. */
export interface OtlpSchema {
  readonly protobuf: typeof Protobuf;
  readonly root: Protobuf.Root;
  readonly request: Protobuf.Type;
  readonly response: Protobuf.Type;
}

let loaded: OtlpSchema | undefined;

/**
 * The schema, loaded at the first call from `otlp-schema.json`: a protobufjs JSON descriptor of
 * every file under proto/, generated at build time (scripts/generate-proto-schema.js) next to
 * this module. A static `require` of a JSON file, so bundlers inline it and nothing reads proto/
 * at run time. Throws if the descriptor is missing (a build that skipped the generation step).
 */
export function otlpSchema(): OtlpSchema {
  if (loaded === undefined) {
    // Required here, not imported at the top: applications that never encode OTLP never pay for
    // protobufjs. The light build: reflection and codecs, without the .proto parser.
    const protobuf = require('protobufjs/light') as typeof Protobuf;
    let descriptor: Protobuf.INamespace;
    try {
      descriptor = require('./otlp-schema.json') as Protobuf.INamespace;
    } catch (error) {
      throw new Error(
        `otel-span-profiler: ${__dirname}/otlp-schema.json is missing; build with \`npm run build\`, which generates it (scripts/generate-proto-schema.js)`,
        { cause: error },
      );
    }
    // A private Root, not protobufjs's shared default one: other libraries (the OpenTelemetry
    // exporters among them) declare the same OTLP packages there.
    const root = protobuf.Root.fromJSON(descriptor);
    root.resolveAll();
    loaded = {
      protobuf,
      root,
      request: root.lookupType(`${SERVICE_PACKAGE}.ExportProfilesServiceRequest`),
      response: root.lookupType(`${SERVICE_PACKAGE}.ExportProfilesServiceResponse`),
    };
  }
  return loaded;
}
