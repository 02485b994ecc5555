import * as assert from 'node:assert/strict';
import type { OTLPProfileProtocol } from '../../src/exporter/otlp-protocol';
import { OTLPProfileExporter } from '../../src/exporter/otlp-profile-exporter';
import { pyroscopeJsonWarning } from '../../src/exporter/pyroscope-json-warning';
import { DiagRecorder } from '../helpers/diag-recorder';

// Issue 22.4: OTLP/JSON to Grafana Pyroscope loses every span query (hex IDs read as base64).

const ADVICE =
  "Pyroscope reads the hex trace and span IDs of OTLP/JSON as base64, so no span query finds these samples; use protocol 'http/protobuf'";

describe('pyroscopeJsonWarning', () => {
  const cases: { name: string; url: string; protocol: OTLPProfileProtocol; want: string | undefined }[] = [
    {
      name: "JSON to Pyroscope's default port",
      url: 'http://127.0.0.1:4040/v1development/profiles',
      protocol: 'http/json',
      want: `protocol 'http/json' to http://127.0.0.1:4040/v1development/profiles, which looks like Grafana Pyroscope (port 4040): ${ADVICE}`,
    },
    {
      name: 'JSON to a host named for Pyroscope, without user info or query in the message',
      url: 'https://user:secret@Pyroscope-Distributor.example:8443/v1development/profiles?token=x',
      protocol: 'http/json',
      want: `protocol 'http/json' to https://pyroscope-distributor.example:8443/v1development/profiles, which looks like Grafana Pyroscope (its host name): ${ADVICE}`,
    },
    {
      name: "JSON to a Collector's receiver (same path)",
      url: 'http://collector:4318/v1development/profiles',
      protocol: 'http/json',
      want: undefined,
    },
    { name: 'protobuf to Pyroscope', url: 'http://pyroscope:4040/v1development/profiles', protocol: 'http/protobuf', want: undefined },
    { name: 'gRPC to Pyroscope', url: 'http://pyroscope:4040', protocol: 'grpc', want: undefined },
    {
      name: 'a port that only contains 4040',
      url: 'http://collector:14040/v1development/profiles',
      protocol: 'http/json',
      want: undefined,
    },
  ];
  for (const { name, url, protocol, want } of cases) {
    it(`should ${want === undefined ? 'not warn' : 'warn'} for ${name}`, () => {
      assert.equal(pyroscopeJsonWarning(url, protocol), want);
    });
  }
});

describe('OTLPProfileExporter with OTLP/JSON to Pyroscope', () => {
  let recorder: DiagRecorder;
  const exporters: OTLPProfileExporter[] = [];

  beforeEach(() => {
    recorder = new DiagRecorder().install();
  });

  afterEach(async () => {
    await Promise.all(exporters.splice(0).map((e) => e.shutdown()));
    recorder.uninstall();
  });

  it('should warn once, when constructed, with the exact text', () => {
    exporters.push(new OTLPProfileExporter({ url: 'http://pyroscope:4040/v1development/profiles', protocol: 'http/json' }));
    assert.deepEqual(
      recorder.records.filter((r) => r.level === 'warn'),
      [
        {
          level: 'warn',
          namespace: 'otel-span-profiler/otlp-profile-exporter',
          message: `protocol 'http/json' to http://pyroscope:4040/v1development/profiles, which looks like Grafana Pyroscope (its host name): ${ADVICE}`,
        },
      ],
    );
  });

  it('should not warn for http/protobuf to Pyroscope, nor for OTLP/JSON to a Collector', () => {
    exporters.push(new OTLPProfileExporter({ url: 'http://pyroscope:4040/v1development/profiles', protocol: 'http/protobuf' }));
    exporters.push(new OTLPProfileExporter({ url: 'http://collector:4318/v1development/profiles', protocol: 'http/json' }));
    assert.deepEqual(recorder.messages(), []);
  });
});
