import { ExportResultCode, type ExportResult } from '../shared/otel-core';
import type { SpanProfile } from '../profile/span-profile';
import type { ProfileExporter } from './profile-exporter';

/**
 * Keeps exported profiles in memory. Use it in tests (yours and ours), like the SDK's
 * `InMemorySpanExporter`; it grows without bound, so never in production.
 */
export class InMemoryProfileExporter implements ProfileExporter {
  private _profiles: SpanProfile[] = [];
  private _stopped = false;

  export(profiles: SpanProfile[], resultCallback: (result: ExportResult) => void): void {
    if (this._stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('InMemoryProfileExporter is shut down') });
      return;
    }
    this._profiles.push(...profiles);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Profiles exported so far, oldest first. */
  getFinishedProfiles(): SpanProfile[] {
    return this._profiles;
  }

  /** Forget the profiles exported so far. */
  reset(): void {
    this._profiles = [];
  }

  shutdown(): Promise<void> {
    this._stopped = true;
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
