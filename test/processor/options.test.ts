import * as assert from 'node:assert';
import { InMemoryProfileExporter } from '../../src/exporter/in-memory-profile-exporter';
import { ProfilingSpanProcessor } from '../../src/processor/processor';
import { resolveProcessorOptions, type ProfilingSpanProcessorOptions } from '../../src/processor/processor-options';

describe('resolveProcessorOptions', function () {
  const exporter = new InMemoryProfileExporter();

  it('should apply the documented defaults', function () {
    const resolved = resolveProcessorOptions({ exporter });
    assert.deepStrictEqual(
      { ...resolved, exporter: undefined },
      {
        exporter: undefined,
        engine: 'auto',
        startEngineEagerly: false,
        profilesSampleRate: 1,
        samplingFrequencyHz: 99,
        maxProfileDurationMillis: 30000,
        maxOpenProfiles: 4096,
        maxOverheadPercent: 1,
        maxSamplesPerProfile: 5000,
        maxStackDepth: 64,
        linkSamplesTo: 'local-root',
        pyroscopeProfileIdAttribute: true,
        sourceMaps: true,
        batch: {
          maxQueueSize: 2048,
          maxExportBatchSize: 64,
          scheduledDelayMillis: 5000,
          exportTimeoutMillis: 30000,
          maxQueuedSamples: 100000,
        },
        mode: 'spans',
        continuousPeriodMillis: 15000,
        maxSamplesPerPeriod: 20000,
        maxStacksPerPeriod: 5000,
      },
    );
  });

  const cases: Array<[string, unknown, string]> = [
    [
      'exporter',
      undefined,
      'ProfilingSpanProcessor: option "exporter" must be a ProfileExporter (export and shutdown methods), got undefined',
    ],
    [
      'exporter',
      {},
      'ProfilingSpanProcessor: option "exporter" must be a ProfileExporter (export and shutdown methods), got an object without the expected methods',
    ],
    ['profilesSampleRate', 1.5, 'ProfilingSpanProcessor: option "profilesSampleRate" must be a number from 0 to 1, got 1.5'],
    ['profilesSampleRate', '0.5', 'ProfilingSpanProcessor: option "profilesSampleRate" must be a number from 0 to 1, got "0.5"'],
    ['samplingFrequencyHz', 0, 'ProfilingSpanProcessor: option "samplingFrequencyHz" must be a number from 1 to 1000, got 0'],
    ['samplingFrequencyHz', NaN, 'ProfilingSpanProcessor: option "samplingFrequencyHz" must be a number from 1 to 1000, got NaN'],
    ['engine', 'v8', `ProfilingSpanProcessor: option "engine" must be 'auto', 'native' or 'probe', got "v8"`],
    ['startEngineEagerly', 'yes', 'ProfilingSpanProcessor: option "startEngineEagerly" must be a boolean, got "yes"'],
    ['maxOverheadPercent', 0, 'ProfilingSpanProcessor: option "maxOverheadPercent" must be a number from 0.01 to 100, got 0'],
    ['maxOverheadPercent', '1', 'ProfilingSpanProcessor: option "maxOverheadPercent" must be a number from 0.01 to 100, got "1"'],
    [
      'maxProfileDurationMillis',
      -1,
      'ProfilingSpanProcessor: option "maxProfileDurationMillis" must be an integer from 1 to 9007199254740991, got -1',
    ],
    ['maxOpenProfiles', 2.5, 'ProfilingSpanProcessor: option "maxOpenProfiles" must be an integer from 1 to 9007199254740991, got 2.5'],
    [
      'maxSamplesPerProfile',
      0,
      'ProfilingSpanProcessor: option "maxSamplesPerProfile" must be an integer from 1 to 9007199254740991, got 0',
    ],
    ['maxStackDepth', 5000, 'ProfilingSpanProcessor: option "maxStackDepth" must be an integer from 1 to 1024, got 5000'],
    ['linkSamplesTo', 'root', `ProfilingSpanProcessor: option "linkSamplesTo" must be 'active-span' or 'local-root', got "root"`],
    ['pyroscopeProfileIdAttribute', 'yes', 'ProfilingSpanProcessor: option "pyroscopeProfileIdAttribute" must be a boolean, got "yes"'],
    ['sourceMaps', 'no', 'ProfilingSpanProcessor: option "sourceMaps" must be a boolean, got "no"'],
    ['mode', 'always', `ProfilingSpanProcessor: option "mode" must be 'spans' or 'continuous', got "always"`],
    [
      'continuousPeriodMillis',
      50,
      'ProfilingSpanProcessor: option "continuousPeriodMillis" must be an integer from 100 to 3600000, got 50',
    ],
    ['maxSamplesPerPeriod', 0, 'ProfilingSpanProcessor: option "maxSamplesPerPeriod" must be an integer from 1 to 9007199254740991, got 0'],
    [
      'maxStacksPerPeriod',
      '10',
      'ProfilingSpanProcessor: option "maxStacksPerPeriod" must be an integer from 1 to 9007199254740991, got "10"',
    ],
    ['batch', 5, 'ProfilingSpanProcessor: option "batch" must be an object, got 5'],
    [
      'batch',
      { maxQueueSize: 0 },
      'ProfilingSpanProcessor: option "batch.maxQueueSize" must be an integer from 1 to 9007199254740991, got 0',
    ],
    [
      'batch',
      { exportTimeoutMillis: '5s' },
      'ProfilingSpanProcessor: option "batch.exportTimeoutMillis" must be a number from 1 to 9007199254740991, got "5s"',
    ],
  ];
  for (const [name, value, message] of cases) {
    const shown = typeof value === 'string' || (typeof value === 'object' && value !== null) ? JSON.stringify(value) : String(value);
    it(`should reject ${name} = ${shown} naming the option and the value`, function () {
      const options = { exporter, [name]: value } as unknown as ProfilingSpanProcessorOptions;
      assert.throws(() => resolveProcessorOptions(options), { message });
    });
  }

  it('should make the processor constructor throw for a bad batch option, with nothing started', function () {
    assert.throws(() => new ProfilingSpanProcessor({ exporter, batch: { maxExportBatchSize: -3 } }), {
      name: 'RangeError',
      message: 'ProfilingSpanProcessor: option "batch.maxExportBatchSize" must be an integer from 1 to 9007199254740991, got -3',
    });
  });

  it('should accept maxOverheadPercent = Infinity (no cap)', function () {
    assert.strictEqual(resolveProcessorOptions({ exporter, maxOverheadPercent: Infinity }).maxOverheadPercent, Infinity);
  });

  it('should reject a missing options object', function () {
    assert.throws(() => resolveProcessorOptions(undefined as never), {
      message: 'ProfilingSpanProcessor: expected an options object with an exporter, got undefined',
    });
  });
});
