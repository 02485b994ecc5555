/** Exit codes of `otel-span-profiler` (documented in docs/viewer.md). */
export const EXIT = {
  ok: 0,
  /** Something unexpected failed (a bug, or a port already in use). */
  failure: 1,
  /** Bad command line: unknown command or option, missing or bad value. */
  usage: 2,
  /** An input file cannot be read or is not OTLP (the message names the file and line). */
  badInput: 3,
  /** The input was read but no sample matched (or it holds no samples). */
  noSamples: 4,
} as const;

/** An error that ends the command with this exit code and message. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}
