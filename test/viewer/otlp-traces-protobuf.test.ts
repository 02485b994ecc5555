import * as assert from 'node:assert/strict';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TraceStore } from '../../src/viewer/trace-store';
import { startViewer, type RunningViewer } from '../../src/viewer/viewer-server';

describe('viewer OTLP endpoint: protobuf traces', () => {
  let viewer: RunningViewer;
  let store: TraceStore;

  before(async () => {
    store = new TraceStore();
    viewer = await startViewer({ store, port: 0, otlpPort: 0 });
  });
  after(() => viewer?.close());

  it('should read spans encoded by the OpenTelemetry JS protobuf serializer', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'proto-check' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('test');
    const root = tracer.startSpan('GET /orders');
    const rootContext = root.spanContext();
    const { trace, context } = await import('@opentelemetry/api');
    const child = tracer.startSpan('load orders', {}, trace.setSpan(context.active(), root));
    child.end();
    root.end();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    assert.equal(spans.length, 2);
    const body = ProtobufTraceSerializer.serializeRequest(spans)!;
    const res = await fetch(`${viewer.otlpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    const got = store.trace(rootContext.traceId)!;
    assert.deepEqual(
      got.spans.map((s) => [s.name, s.service, s.parentSpanId]),
      [
        ['GET /orders', 'proto-check', ''],
        ['load orders', 'proto-check', rootContext.spanId],
      ],
    );
    const rootView = got.spans[0];
    const startNanos =
      BigInt(spans.find((s) => s.name === 'GET /orders')!.startTime[0]) * 1_000_000_000n +
      BigInt(spans.find((s) => s.name === 'GET /orders')!.startTime[1]);
    assert.equal(rootView.startUnixNano, startNanos.toString());
    await provider.shutdown();
  });
});
