/* `otel-span-profiler convert`: OTLP profiles to pprof, .cpuprofile or folded stacks. */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readOtlpFiles } from '../convert/otlp-input';
import { SampleSet } from '../convert/profile-samples';
import { selectSamples } from '../convert/select-samples';
import { spansOfRequest } from '../convert/trace-spans';
import { toCpuProfile } from '../convert/to-cpuprofile';
import { toFolded } from '../convert/to-folded';
import { toPprof } from '../convert/to-pprof';
import { CliError, EXIT } from './exit-codes';
import { addProfileRequests, readInputs } from './read-inputs';

export const CONVERT_HELP = `Usage: otel-span-profiler convert --to pprof|cpuprofile|folded [filters] IN... -o OUT

Converts OTLP profiles to a standard format.

Input (one or more files or folders): OTLP JSON lines (FileProfileExporter, the Collector's
file exporter with format json), the Collector's file exporter protobuf output, or a raw
OTLP export request body (JSON or protobuf); gzipped or not. Traces in the same inputs
are used to find a span's descendants for --span.

Options:
  --to FORMAT        pprof       gzipped pprof (go tool pprof, speedscope); samples are
                                 labelled span_id, trace_id, local_root_span_id, span_name
                     cpuprofile  Chrome DevTools .cpuprofile (DevTools, VS Code, speedscope)
                     folded      folded stacks, "outer;...;leaf value" (flamegraph.pl)
  -o, --output OUT   output file ("-" writes to standard output)
  --trace ID         only samples of this trace (32 hex characters)
  --span ID          only samples of this span and its descendants (16 hex characters)
  --self             with --span: only the span's own samples
  --root-name NAME   only samples whose local root span has this name (e.g. "GET /hash")
  --value KIND       folded values: cpu (nanoseconds, the default) or samples (counts)
  -h, --help         this help

Exit codes: 0 done, 2 bad command line, 3 unreadable or malformed input, 4 no sample matched.
`;

type Format = 'pprof' | 'cpuprofile' | 'folded';

/** The command line, checked. */
interface ConvertArgs {
  readonly format: Format;
  readonly output: string;
  readonly inputs: string[];
  readonly trace?: string;
  readonly span?: string;
  readonly self?: boolean;
  readonly rootName?: string;
  readonly value?: string;
}

export function convertCommand(args: string[]): number {
  const parsed = parseConvertArgs(args);
  if (parsed === 'help') {
    process.stdout.write(CONVERT_HELP);
    return EXIT.ok;
  }
  const requests = readInputs(() => readOtlpFiles(parsed.inputs));
  const set = new SampleSet();
  addProfileRequests(requests.profiles, (request) => set.addRequest(request));
  if (requests.profiles.length === 0) throw new CliError(EXIT.noSamples, 'the input holds no OTLP profiles (only traces?)');
  const samples = selectSamples(set.samples, {
    traceId: parsed.trace,
    spanId: parsed.span,
    selfOnly: parsed.self,
    rootName: parsed.rootName,
    descendantSpanIds: parsed.span === undefined ? new Set() : descendantsOf(parsed.span, requests.traces),
  });
  if (samples.length === 0) throw new CliError(EXIT.noSamples, `no sample matched (of ${set.samples.length} read)`);

  let output: string | Buffer;
  if (parsed.format === 'pprof') output = toPprof(set.frames, samples);
  else if (parsed.format === 'cpuprofile') output = JSON.stringify(toCpuProfile(set.frames, samples));
  else output = toFolded(set.frames, samples, parsed.value === 'samples' ? 'samples' : 'cpu-nanos');
  if (parsed.output === '-') process.stdout.write(output);
  else {
    try {
      writeFileSync(parsed.output, output);
    } catch (err) {
      throw new CliError(EXIT.failure, `cannot write ${parsed.output}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const count = samples.reduce((sum, s) => sum + s.count, 0);
    process.stderr.write(
      `wrote ${parsed.output} (${parsed.format}, ${count} samples${set.cpuMeasured ? '' : ', CPU time estimated from the sampling period'})\n`,
    );
  }
  return EXIT.ok;
}

/** The command line as options, or 'help'; throws a usage CliError naming what is wrong. */
function parseConvertArgs(args: string[]): ConvertArgs | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      output: { type: 'string', short: 'o' },
      trace: { type: 'string' },
      span: { type: 'string' },
      self: { type: 'boolean' },
      'root-name': { type: 'string' },
      value: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const format = values.to;
  if (format !== 'pprof' && format !== 'cpuprofile' && format !== 'folded') {
    throw new CliError(EXIT.usage, `--to must be pprof, cpuprofile or folded, got ${format === undefined ? 'nothing' : `'${format}'`}`);
  }
  if (values.output === undefined) throw new CliError(EXIT.usage, 'name the output file with -o OUT (or -o - for standard output)');
  if (positionals.length === 0) throw new CliError(EXIT.usage, 'name at least one input file');
  if (values.trace !== undefined && !/^[0-9a-fA-F]{32}$/.test(values.trace))
    throw new CliError(EXIT.usage, `--trace must be 32 hex characters, got '${values.trace}'`);
  if (values.span !== undefined && !/^[0-9a-fA-F]{16}$/.test(values.span))
    throw new CliError(EXIT.usage, `--span must be 16 hex characters, got '${values.span}'`);
  if (values.self && values.span === undefined) throw new CliError(EXIT.usage, '--self needs --span');
  if (values.value !== undefined && values.value !== 'cpu' && values.value !== 'samples')
    throw new CliError(EXIT.usage, `--value must be cpu or samples, got '${values.value}'`);
  return {
    format,
    output: values.output,
    inputs: positionals,
    trace: values.trace,
    span: values.span,
    self: values.self,
    rootName: values['root-name'],
    value: values.value,
  };
}

/** The IDs of every span below `spanId` in the traces read (its descendants, not itself). */
function descendantsOf(spanId: string, traces: readonly { request: unknown }[]): Set<string> {
  const descendants = new Set<string>();
  const parentOf = new Map<string, string>();
  for (const { request } of traces) for (const span of spansOfRequest(request)) parentOf.set(span.spanId, span.parentSpanId);
  const target = spanId.toLowerCase();
  for (const id of parentOf.keys()) {
    for (let p = parentOf.get(id), depth = 0; p && depth < 1000; p = parentOf.get(p), depth++) {
      if (p === target) descendants.add(id);
    }
  }
  return descendants;
}
