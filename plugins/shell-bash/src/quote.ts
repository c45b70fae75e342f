/**
 * Quoting for bash and zsh.
 *
 * Single quotes are the one context where both shells take every byte literally: no expansion,
 * no backslash escapes, no history expansion. A quote inside the value is written as `\'` between
 * quoted runs. The output never contains `''` inside a quoted run, so zsh's RC_QUOTES option (which
 * reads `''` there as a quote) cannot change its meaning.
 */

/** Names the core validates; checked again here because a name is spliced into code unquoted. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function quote(value: string): string {
  // A variable cannot hold NUL in the environment; failing beats silently cutting the value.
  if (value.includes('\0')) throw new Error('a shell value cannot contain a NUL character');
  if (value === '') return "''";
  return value
    .split("'")
    .map((run) => (run === '' ? '' : `'${run}'`))
    .join("\\'");
}

export function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not a valid shell variable name: ${JSON.stringify(name)}`);
  return name;
}
