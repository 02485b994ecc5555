import { diag } from '@opentelemetry/api';
import type { Environment } from '../exporter/exporter-env';
import type { ProfilingSpanProcessorOptions } from '../processor/processor-options';
import type { EngineChoice } from '../sampler/engine';

const logger = diag.createComponentLogger({ namespace: 'otel-span-profiler/register' });

/** The values `OTEL_SPAN_PROFILER_MODE` takes: the processor's `mode` option. */
export const PROFILER_MODES = ['spans', 'continuous'] as const;

/** The processor options the zero-code entry reads from `OTEL_SPAN_PROFILER_*`: the one reader of them. */
export type ProcessorOptionsFromEnv = Pick<ProfilingSpanProcessorOptions, 'mode' | 'continuousPeriodMillis' | 'engine'>;

/**
 * Reads `OTEL_SPAN_PROFILER_ENGINE` (see {@link engineFromEnv}), `OTEL_SPAN_PROFILER_MODE`
 * (`spans` or `continuous`) and `OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS` (an integer from 100
 * to 3600000). Unset or empty variables are left out (the processor's defaults apply); a bad value
 * is warned about and left out.
 */
export function processorOptionsFromEnv(env: Environment): ProcessorOptionsFromEnv {
  const options: { -readonly [K in keyof ProcessorOptionsFromEnv]: ProcessorOptionsFromEnv[K] } = {};
  if ((env.OTEL_SPAN_PROFILER_ENGINE ?? '').trim() !== '') options.engine = engineFromEnv(env);
  const mode = (env.OTEL_SPAN_PROFILER_MODE ?? '').trim().toLowerCase();
  if ((PROFILER_MODES as readonly string[]).includes(mode)) options.mode = mode as (typeof PROFILER_MODES)[number];
  else if (mode !== '') {
    logger.warn(
      `OTEL_SPAN_PROFILER_MODE is invalid, expected one of ${PROFILER_MODES.join(', ')} (actual: ${JSON.stringify(env.OTEL_SPAN_PROFILER_MODE)}); using 'spans'`,
    );
  }
  const period = (env.OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS ?? '').trim();
  if (period !== '') {
    const value = Number(period);
    if (/^\d+$/.test(period) && value >= 100 && value <= 3_600_000) options.continuousPeriodMillis = value;
    else {
      logger.warn(
        `OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS is invalid, expected an integer from 100 to 3600000 (actual: ${JSON.stringify(env.OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS)}); using the default`,
      );
    }
  }
  return options;
}

const ENGINES: readonly EngineChoice[] = ['auto', 'native', 'probe'];

/**
 * `OTEL_SPAN_PROFILER_ENGINE`: `auto` (default), `native` or `probe`, the processor's `engine`
 * option. An unknown value warns once and falls back to `auto`.
 */
export function engineFromEnv(env: Environment): EngineChoice {
  const raw = (env.OTEL_SPAN_PROFILER_ENGINE ?? '').trim().toLowerCase();
  if (raw === '') return 'auto';
  if ((ENGINES as readonly string[]).includes(raw)) return raw as EngineChoice;
  logger.warn(
    `OTEL_SPAN_PROFILER_ENGINE is invalid, expected one of ${ENGINES.join(', ')} (actual: ${JSON.stringify(env.OTEL_SPAN_PROFILER_ENGINE)}); using 'auto'`,
  );
  return 'auto';
}
