import { context, ROOT_CONTEXT, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, type IdGenerator, type Sampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { InMemoryProfileExporter } from '../../src/exporter/in-memory-profile-exporter';
import { ProfilingSpanProcessor } from '../../src/processor/processor';
import type { ProfilingSpanProcessorOptions } from '../../src/processor/processor-options';

/** A tracer provider with a ProfilingSpanProcessor and an in-memory exporter, as a test fixture. */
export interface ProfiledTracing {
  readonly tracer: Tracer;
  readonly processor: ProfilingSpanProcessor;
  readonly exporter: InMemoryProfileExporter;
  readonly provider: BasicTracerProvider;
  /** Ends the provider (and so the processor) and restores the global context manager. */
  close(): Promise<void>;
}

export function setUpProfiledTracing(
  options: Partial<ProfilingSpanProcessorOptions> = {},
  sdk: { sampler?: Sampler; idGenerator?: IdGenerator } = {},
): ProfiledTracing {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemoryProfileExporter();
  // No overhead cap unless a test sets one: the suites count samples at the configured rate.
  const processor = new ProfilingSpanProcessor({ exporter, batch: { scheduledDelayMillis: 50 }, maxOverheadPercent: Infinity, ...options });
  // A suite run for an engine must not pass on the other one (the native engine falls back to the probe).
  if (options.engine !== undefined && options.engine !== 'auto' && processor.stats.engine.name !== options.engine) {
    throw new Error(`asked for the ${options.engine} engine, got ${processor.stats.engine.name}: ${processor.stats.engine.reason}`);
  }
  const provider = new BasicTracerProvider({
    spanProcessors: [processor as unknown as SpanProcessor],
    ...sdk,
  });
  return {
    tracer: provider.getTracer('otel-span-profiler-test'),
    processor,
    exporter,
    provider,
    async close() {
      await provider.shutdown();
      context.disable();
      trace.disable();
    },
  };
}

/** Burns CPU for about `millis` in the caller's frame (the caller shows as the hot function). */
export function spin(millis: number): number {
  const end = performance.now() + millis;
  let x = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) x += Math.sqrt(i);
  }
  return x;
}

/** The engines every attribution suite runs against (issue 19). */
export const ENGINES = ['native', 'probe'] as const;
export type TestEngine = (typeof ENGINES)[number];

/**
 * Burns CPU until the engine has taken `samples` more samples (or 10 s passed, which a test then
 * reports as missing samples): robust on a loaded machine, where a fixed spin may see none. The
 * native engine delivers its samples at its next rotation (or forceFlush, or shutdown): a test
 * that reads `stats.samples` flushes first.
 */
export function spinUntilSampled(processor: ProfilingSpanProcessor, samples = 1): void {
  const target = processor.stats.engine.samplesTaken + samples;
  const end = performance.now() + 10_000;
  while (processor.stats.engine.samplesTaken < target && performance.now() < end) spin(2);
}

/**
 * Makes a function named `name` that burns CPU for about `millis` in its own frame, so a
 * sample taken during it has `name` as its leaf (or next-to-leaf) frame.
 */
export function namedHotFunction(name: string): (millis: number) => number {
  // new Function gives each request a function of its own name; the loop is inlined so the
  // named frame is on the CPU, not a shared helper.
  return new Function(
    'now',
    `return function ${name}(millis) {
      const end = now() + millis;
      let x = 0;
      while (now() < end) { for (let i = 0; i < 1000; i++) x += Math.sqrt(i); }
      return x;
    };\n//# sourceURL=${name}.js`,
  )(() => performance.now()) as (millis: number) => number;
}

/**
 * Waits, yielding to timers, until the engine has taken `samples` more samples (or 10 s passed):
 * lets work scheduled on timers (a background `setInterval`) be sampled enough on a loaded machine.
 * `step` is what runs between two looks at the count (default: a 20 ms timer).
 */
export async function waitUntilSampled(
  processor: ProfilingSpanProcessor,
  samples: number,
  step: () => Promise<unknown> = () => new Promise((r) => setTimeout(r, 20)),
): Promise<void> {
  const target = processor.stats.engine.samplesTaken + samples;
  const end = performance.now() + 10_000;
  while (processor.stats.engine.samplesTaken < target && performance.now() < end) await step();
}

/**
 * Burns CPU in `burn` outside any span, 20 ms at a time with a turn of the event loop between,
 * until the engine has taken `samples` more samples (or 10 s passed): samples with no span for
 * certain. A background `setInterval` alone gets few of them when the roots keep the thread
 * busy (3 of 9-33 in a run on a loaded CI machine).
 */
export function burnOutsideSpansUntilSampled(
  processor: ProfilingSpanProcessor,
  burn: (millis: number) => unknown,
  samples: number,
): Promise<void> {
  return context.with(ROOT_CONTEXT, () =>
    waitUntilSampled(processor, samples, () => {
      burn(20);
      return new Promise((r) => setTimeout(r, 1));
    }),
  );
}
