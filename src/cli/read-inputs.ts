import { InputError, type OtlpRequests } from '../convert/otlp-input';
import { CliError, EXIT } from './exit-codes';

/** Runs a file read, turning an InputError into the CLI's bad-input exit. */
export function readInputs(read: () => OtlpRequests): OtlpRequests {
  try {
    return read();
  } catch (err) {
    if (err instanceof InputError) throw new CliError(EXIT.badInput, err.message);
    throw err;
  }
}
