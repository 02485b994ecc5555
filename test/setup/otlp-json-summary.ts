/* Readers of OTLP JSON export bodies, as the setup tests receive them in an `OtlpSink.json()`. */

/** One profile of an OTLP JSON profiles request, with the names of the functions its samples ran. */
export interface ProfileSummary {
  readonly serviceName: string | undefined;
  readonly sampleCount: number;
  /** Trace IDs (hex) the profile's samples link to. */
  readonly traceIds: ReadonlySet<string>;
  readonly functionNames: ReadonlySet<string>;
}

interface JsonRequest {
  dictionary?: {
    stringTable?: string[];
    functionTable?: Array<{ nameStrindex?: number }>;
    linkTable?: Array<{ traceId?: string }>;
  };
  resourceProfiles?: Array<{
    resource?: { attributes?: Array<{ key: string; value?: { stringValue?: string } }> };
    scopeProfiles?: Array<{ profiles?: Array<{ samples?: Array<{ linkIndex?: number }> }> }>;
  }>;
}

/**
 * Reads an OTLP JSON `ExportProfilesServiceRequest` into one summary per profile. Function names are
 * taken from the request's shared dictionary (every function the request names), which is enough
 * to tell whether a given function was sampled in it.
 */
export function summarizeProfiles(body: unknown): ProfileSummary[] {
  const request = body as JsonRequest;
  const strings = request.dictionary?.stringTable ?? [];
  const functionNames = new Set((request.dictionary?.functionTable ?? []).map((f) => strings[f.nameStrindex ?? 0] ?? ''));
  const links = request.dictionary?.linkTable ?? [];
  const summaries: ProfileSummary[] = [];
  for (const rp of request.resourceProfiles ?? []) {
    const serviceName = rp.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
    for (const sp of rp.scopeProfiles ?? []) {
      for (const profile of sp.profiles ?? []) {
        const samples = profile.samples ?? [];
        const traceIds = new Set(samples.map((s) => links[s.linkIndex ?? 0]?.traceId ?? '').filter((id) => id !== ''));
        summaries.push({ serviceName, sampleCount: samples.length, traceIds, functionNames });
      }
    }
  }
  return summaries;
}

/** The names of every span in OTLP JSON trace requests, with their trace IDs. */
export function spansOf(bodies: unknown[]): Array<{ name: string; traceId: string }> {
  const spans: Array<{ name: string; traceId: string }> = [];
  for (const body of bodies as Array<{
    resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ name: string; traceId: string }> }> }>;
  }>) {
    for (const rs of body.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push({ name: span.name, traceId: span.traceId });
  }
  return spans;
}
