/**
 * Checks of the names a person gives the CLI (`--name`, `--as`, `--room`), with the server's rule (1 to 64
 * characters, no control characters) but worded for the option, before anything connects.
 */
import { MAX_NAME_LENGTH } from '../core/room.js';
import { cliError } from './errors.js';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * The trimmed value of a name option; throws CLI_OPTION_INVALID naming `flag` when the server would refuse it.
 *
 * @example
 *   checkName('--name', '  alice ')  // 'alice'
 *   checkName('--name', '')          // throws: --name must not be empty…
 */
export function checkName(flag: string, value: string): string {
  const text = value.trim();
  if (text === '') throw cliError('CLI_OPTION_INVALID', `${flag} must not be empty; give a name like ${flag} alice`);
  if (text.length > MAX_NAME_LENGTH) throw cliError('CLI_OPTION_INVALID', `${flag} is longer than ${MAX_NAME_LENGTH} characters`);
  if (CONTROL_CHARACTERS.test(text)) throw cliError('CLI_OPTION_INVALID', `${flag} must not hold control characters (tabs, newlines…)`);
  return text;
}
