import type { ExportResult } from '../shared/otel-core';
import type { SpanProfile } from '../profile/span-profile';

/**
 * Receives finished span profiles, shaped like the SDK's `SpanExporter` so that the same habits
 * (result callback, idempotent shutdown) apply. Implement it to send profiles somewhere new.
 */
export interface ProfileExporter {
  /** Export a batch; call `resultCallback` exactly once, never throw. */
  export(profiles: SpanProfile[], resultCallback: (result: ExportResult) => void): void;
  /** Stop accepting work and release resources. Called once by the processor. */
  shutdown(): Promise<void>;
  /** Send whatever the exporter itself still buffers. */
  forceFlush?(): Promise<void>;
}
