/**
 * Quoting for PowerShell (Windows PowerShell 5.1 and pwsh 7).
 *
 * A single-quoted (verbatim) string is the one context where PowerShell takes every character
 * literally: no `$` expansion, no backtick escapes, newlines included as they are. Its only special
 * characters are the single quotes, and PowerShell's tokenizer counts five of them: the ASCII
 * apostrophe and the typographic U+2018 ‘, U+2019 ’, U+201A ‚ and U+201B ‛ (a string may even open
 * with one and close with another). Inside the string, a quote followed by another quote stands for
 * the second one, so each of the five is written twice. An undoubled ’ in a value — common in file
 * and display names — would end the string and turn the rest of the value into code.
 */

/** Names the core validates; checked again here because a name is spliced into code. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Every character PowerShell takes as a single quote. */
export const SINGLE_QUOTES = "'\u2018\u2019\u201A\u201B";
const QUOTE_RUN = /['\u2018\u2019\u201A\u201B]/g;

export function quote(value: string): string {
  // A variable cannot hold NUL in the environment; failing beats silently cutting the value.
  if (value.includes('\0')) throw new Error('a PowerShell value cannot contain a NUL character');
  return `'${value.replace(QUOTE_RUN, (q) => q + q)}'`;
}

export function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a valid environment variable name: ${JSON.stringify(name)}`);
  return name;
}
