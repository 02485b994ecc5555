import { InputError, type OtlpRequest, type OtlpRequests } from '../convert/otlp-input';
import { OtlpContentError } from '../convert/profile-samples';
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

/** Hands each profiles request to `add`, turning bad content into the CLI's bad-input exit, naming where it was read. */
export function addProfileRequests(requests: readonly OtlpRequest[], add: (request: unknown) => void): void {
  for (const { where, request } of requests) {
    try {
      add(request);
    } catch (err) {
      if (err instanceof OtlpContentError) throw new CliError(EXIT.badInput, `${where}: ${err.message}`);
      throw err;
    }
  }
}
