/**
 * The error codes the `confab` command itself raises (before or around talking to a server), with the
 * default message of each. The server's and plugins' codes are in core/errors.ts and each plugin's protocol.
 */
import { ConfabError } from '../core/errors.js';

/** The CLI's own codes. */
export const CLI_ERRORS = {
  CLI_OUT_EXISTS: 'the output file exists; add --force to replace it',
  CLI_OUT_NOT_A_FILE: 'the output path is not a regular file (a device, a pipe…); the CLI will not replace it',
  CLI_OUT_NO_DIRECTORY: 'the directory of the output path does not exist',
  CLI_OPTION_INVALID: 'an option has a value the command cannot use',
  CLI_DATA_DIR_EMPTY: 'the data directory has no secret and no store yet',
  CLI_NOT_A_TOKEN_ID: 'this is neither a token nor a token id minted by confab token',
} as const;

/** A CLI error code. */
export type CliErrorCode = keyof typeof CLI_ERRORS;

/**
 * A ConfabError with a CLI code and a message a person can act on (the code's default when none is given).
 *
 * @example
 *   throw cliError('CLI_OUT_EXISTS', `${path} exists; add --force to replace it, or give another --out`);
 */
export function cliError(code: CliErrorCode, message?: string): ConfabError {
  return new ConfabError(code, message ?? CLI_ERRORS[code]);
}
