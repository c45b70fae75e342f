/** A command-line argument shown in a hint as a user would type it in a POSIX shell. */
import { shQuote } from '../transaction/shim.js';

/** `demo` as is, `'my env'` quoted: only what needs quoting is quoted. */
export function shellArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : shQuote(arg);
}
