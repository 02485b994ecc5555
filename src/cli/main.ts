/* `otel-span-profiler <command>`: the package's command-line tool. */
import { CONVERT_HELP, convertCommand } from './convert-command';
import { CliError, EXIT } from './exit-codes';
import { VIEW_HELP, viewCommand } from './view-command';
import { errorMessage } from '../shared/errors';

export const MAIN_HELP = `Usage: otel-span-profiler <command> [options]

Commands:
  view      a local web viewer: profiled requests, span waterfall with CPU per span,
            flame graphs (from files, or as an OTLP/HTTP endpoint)
  convert   OTLP profiles to pprof, Chrome .cpuprofile or folded stacks
  help      this help, or "help <command>"

Run "otel-span-profiler <command> --help" for a command's options.
`;

/** Runs one command line; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        if (rest[0] === 'convert') process.stdout.write(CONVERT_HELP);
        else if (rest[0] === 'view') process.stdout.write(VIEW_HELP);
        else process.stdout.write(MAIN_HELP);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case 'convert':
        return convertCommand(rest);
      case 'view':
        return await viewCommand(rest);
      default:
        throw new CliError(EXIT.usage, `unknown command '${command}' (commands: view, convert, help)`);
    }
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`otel-span-profiler ${command ?? ''}: ${err.message}\n`);
      return err.exitCode;
    }
    // parseArgs reports unknown options and missing values with these codes.
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`otel-span-profiler ${command}: ${errorMessage(err)} (see --help)\n`);
      return EXIT.usage;
    }
    process.stderr.write(`otel-span-profiler ${command ?? ''}: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failure;
  }
}
