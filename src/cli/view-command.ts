/* `otel-span-profiler view`: the local web viewer, fed from files and/or its OTLP endpoint. */
import { parseArgs } from 'node:util';
import { readOtlpFiles } from '../convert/otlp-input';
import { TraceStore } from '../viewer/trace-store';
import { startViewer, type RunningViewer } from '../viewer/viewer-server';
import { CliError, EXIT } from './exit-codes';
import { addProfileRequests, readInputs } from './read-inputs';
import { errorMessage } from '../shared/errors';
import { plural } from '../shared/wording';

export const VIEW_HELP = `Usage: otel-span-profiler view [IN...] [options]

Serves a local web viewer of traces and their span profiles: profiled requests, the span
waterfall with each span's CPU time, flame graphs per span and per root span name, and, for
continuous mode's process profiles, the process view (/process).

Input: files or folders of OTLP profiles and traces (as for convert), and/or, with
--otlp-port, an OTLP/HTTP endpoint: point an application at it with
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318

Options:
  --port N           web UI port (default 8686; 0 picks a free port)
  --otlp-port N      also receive OTLP/HTTP traces and profiles on this port (protobuf or
                     JSON, POST /v1/traces and /v1development/profiles); off by default:
                     the web UI port never takes OTLP
  --host HOST        interface to bind (default 127.0.0.1; other hosts expose your data).
                     The UI answers requests for localhost, an IP address or HOST only
  --max-traces N     traces kept in memory, the oldest dropped first (default 1000)
  --max-process-samples N
                     samples of process profiles (continuous mode) kept for the process
                     view, the oldest dropped first (default 200000)
  --out DIR          append received OTLP requests to DIR/traces.jsonl and
                     DIR/profiles.jsonl (default: nothing is written)
  -h, --help         this help

Exit codes: 0 stopped by Ctrl-C, 1 cannot listen, 2 bad command line, 3 bad input file.
`;

export const DEFAULT_VIEW_PORT = 8686;

export async function viewCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'otlp-port': { type: 'string' },
      host: { type: 'string' },
      'max-traces': { type: 'string' },
      'max-process-samples': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(VIEW_HELP);
    return EXIT.ok;
  }
  const port = portOption('--port', values.port) ?? DEFAULT_VIEW_PORT;
  const otlpPort = portOption('--otlp-port', values['otlp-port']);
  const maxTraces = positiveIntOption('--max-traces', values['max-traces']);
  const maxProcessSamples = positiveIntOption('--max-process-samples', values['max-process-samples']);
  if (positionals.length === 0 && otlpPort === undefined) {
    throw new CliError(EXIT.usage, 'name input files or folders, or --otlp-port N to receive OTLP (see --help)');
  }
  const store = new TraceStore({ maxTraces, maxProcessSamples });
  if (positionals.length > 0) loadFiles(store, positionals);
  let viewer: RunningViewer;
  try {
    viewer = await startViewer({
      store,
      port,
      otlpPort,
      host: values.host,
      outputDir: values.out,
      onError: (message) => process.stderr.write(`otel-span-profiler view: ${message}\n`),
    });
  } catch (err) {
    throw new CliError(EXIT.failure, `cannot listen: ${errorMessage(err)}`);
  }
  const roots = store.roots().length;
  process.stdout.write(`viewer: ${viewer.url}/  (${plural(roots, 'profiled root span')} loaded)\n`);
  if (viewer.otlpUrl !== undefined)
    process.stdout.write(`OTLP/HTTP endpoint: ${viewer.otlpUrl}  (OTEL_EXPORTER_OTLP_ENDPOINT=${viewer.otlpUrl})\n`);
  if (values.out !== undefined) process.stdout.write(`received data is appended to ${values.out}/\n`);
  process.stdout.write('press Ctrl-C to stop\n');
  await untilStopped();
  await viewer.close();
  return EXIT.ok;
}

/** Reads the OTLP files and folders named on the command line into `store`; bad content exits 3. */
function loadFiles(store: TraceStore, inputs: string[]): void {
  const requests = readInputs(() => readOtlpFiles(inputs));
  for (const { request } of requests.traces) store.addTraces(request);
  addProfileRequests(requests.profiles, (request) => store.addProfiles(request));
}

/** Resolves at Ctrl-C (SIGINT) or SIGTERM, then stops listening for them. */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function positiveIntOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(EXIT.usage, `${name} must be a positive integer, got '${value}'`);
  return n;
}

function portOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(EXIT.usage, `${name} must be a port number 0-65535, got '${value}'`);
  return port;
}
