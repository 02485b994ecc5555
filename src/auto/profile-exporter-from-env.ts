import { diag } from '@opentelemetry/api';
import type { Environment } from '../exporter/exporter-env';
import { FileProfileExporter } from '../exporter/file-profile-exporter';
import { OTLPProfileExporter } from '../exporter/otlp-profile-exporter';
import type { ProfileExporter } from '../exporter/profile-exporter';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/register' });

/** The values `OTEL_PROFILES_EXPORTER` takes, in the style of `OTEL_TRACES_EXPORTER`. */
export const PROFILES_EXPORTERS = ['otlp', 'file', 'none'] as const;
export type ProfilesExporterName = (typeof PROFILES_EXPORTERS)[number];

/**
 * Reads `OTEL_PROFILES_EXPORTER`: `otlp` (default: {@link OTLPProfileExporter}, configured by the
 * `OTEL_EXPORTER_OTLP_*` variables), `file` ({@link FileProfileExporter}, OTLP JSON lines at
 * `OTEL_SPAN_PROFILER_FILE`, default `otel-profiles.jsonl`) or `none` (no profiling). Unset or empty
 * means `otlp`; an unknown value is warned about once and `otlp` is used.
 */
export function profilesExporterName(env: Environment): ProfilesExporterName {
  const raw = (env.OTEL_PROFILES_EXPORTER ?? '').trim().toLowerCase();
  if (raw === '') return 'otlp';
  if ((PROFILES_EXPORTERS as readonly string[]).includes(raw)) return raw as ProfilesExporterName;
  logger.warn(
    `OTEL_PROFILES_EXPORTER is invalid, expected one of ${PROFILES_EXPORTERS.join(', ')} (actual: ${JSON.stringify(env.OTEL_PROFILES_EXPORTER)}); using 'otlp'`,
  );
  return 'otlp';
}

/** The exporter `OTEL_PROFILES_EXPORTER` names, or undefined for `none`. */
export function profileExporterFromEnv(env: Environment): ProfileExporter | undefined {
  switch (profilesExporterName(env)) {
    case 'none':
      return undefined;
    case 'file':
      return new FileProfileExporter(env.OTEL_SPAN_PROFILER_FILE ? { filePath: env.OTEL_SPAN_PROFILER_FILE } : {});
    case 'otlp':
      return new OTLPProfileExporter();
  }
}
