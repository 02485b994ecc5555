import * as assert from 'node:assert';
import { processorOptionsFromEnv } from '../../src/auto/processor-options-from-env';
import { DiagRecorder } from '../helpers/diag-recorder';

// Issues 19 and 20: the engine and continuous mode from the zero-code entry (the one reader of OTEL_SPAN_PROFILER_*).
describe('processorOptionsFromEnv', function () {
  let recorder: DiagRecorder | undefined;
  afterEach(function () {
    recorder?.uninstall();
    recorder = undefined;
  });

  const cases: Array<[string, Record<string, string>, object, string[]]> = [
    ['nothing set', {}, {}, []],
    ['empty values', { OTEL_SPAN_PROFILER_MODE: ' ', OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS: '' }, {}, []],
    ['continuous mode', { OTEL_SPAN_PROFILER_MODE: 'continuous' }, { mode: 'continuous' }, []],
    ['span mode, any case', { OTEL_SPAN_PROFILER_MODE: ' Spans ' }, { mode: 'spans' }, []],
    ['a period', { OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS: '10000' }, { continuousPeriodMillis: 10000 }, []],
    ['an engine, any case', { OTEL_SPAN_PROFILER_ENGINE: ' Probe ' }, { engine: 'probe' }, []],
    [
      'an unknown engine',
      { OTEL_SPAN_PROFILER_ENGINE: 'fast' },
      { engine: 'auto' },
      [`OTEL_SPAN_PROFILER_ENGINE is invalid, expected one of auto, native, probe (actual: "fast"); using 'auto'`],
    ],
    [
      'an unknown mode',
      { OTEL_SPAN_PROFILER_MODE: 'always' },
      {},
      [`OTEL_SPAN_PROFILER_MODE is invalid, expected one of spans, continuous (actual: "always"); using 'spans'`],
    ],
    [
      'a period with a unit',
      { OTEL_SPAN_PROFILER_MODE: 'continuous', OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS: '15s' },
      { mode: 'continuous' },
      [
        'OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS is invalid, expected an integer from 100 to 3600000 (actual: "15s"); using the default',
      ],
    ],
    [
      'a period too short',
      { OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS: '50' },
      {},
      ['OTEL_SPAN_PROFILER_CONTINUOUS_PERIOD_MILLIS is invalid, expected an integer from 100 to 3600000 (actual: "50"); using the default'],
    ],
  ];
  for (const [name, env, want, warnings] of cases) {
    it(`should read ${name}${warnings.length > 0 ? ' with a warning' : ''}`, function () {
      recorder = new DiagRecorder().install();
      assert.deepStrictEqual(processorOptionsFromEnv(env), want);
      assert.deepStrictEqual(
        recorder.records.filter((r) => r.level === 'warn').map((r) => r.message),
        warnings,
      );
    });
  }
});
