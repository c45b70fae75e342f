/**
 * Console scripts (bin/pip...) as pip's installer (distlib) writes them, with a shebang that
 * works for any venv path: a plain `#!` line when the path allows it, else the `/bin/sh` trick.
 */
import { createHash } from 'node:crypto';

/** Linux reads at most this many bytes of a `#!` line on older kernels (distlib uses the same bound). */
const MAX_SHEBANG = 127;

/** `'...'` for sh, written without backslashes and without three quotes in a row (see shebang()). */
function shSingleQuote(s: string): string {
  return `'${s.split("'").join(`'"'"'`)}'`;
}

/**
 * The first line(s) of a script run by `python`. A `#!` line cannot hold spaces and is length
 * limited, so then the script starts as a shell script that execs Python on itself; Python sees
 * those lines as a comment and a string (distlib's trick):
 *
 *   #!/bin/sh
 *   '''exec' "/path with spaces/bin/python3" "$0" "$@"
 *   ' '''
 *
 * The quoted path must not end the Python string early (no `'''`) nor hold backslashes (escape
 * sequences would be Python syntax errors or warnings). distlib's double quotes do when the
 * path has no `"`, `$` or backquote; else sh single quotes joined by `"'"`, which never put three
 * quotes in a row. A path with a backslash or `'''` finds Python next to the script instead.
 */
export function shebang(python: string): string {
  const plain = `#!${python}\n`;
  if (!/[\s]/u.test(python) && Buffer.byteLength(plain) <= MAX_SHEBANG) return plain;
  let target: string;
  if (python.includes('\\') || python.includes("'''")) {
    target = `"$(dirname -- "$0")"/${shSingleQuote(python.slice(python.lastIndexOf('/') + 1))}`;
  } else if (/^[^"$`]*$/.test(python)) {
    target = `"${python}"`; // what distlib writes
  } else {
    target = shSingleQuote(python);
  }
  return `#!/bin/sh\n'''exec' ${target} "$0" "$@"\n' '''\n`;
}

/** A console script calling `module:attr`, as distlib's ScriptMaker writes it. */
export function consoleScript(python: string, module: string, attr: string): string {
  const [head] = attr.split('.');
  return (
    shebang(python) +
    '# -*- coding: utf-8 -*-\n' +
    'import re\n' +
    'import sys\n' +
    `from ${module} import ${head}\n` +
    "if __name__ == '__main__':\n" +
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n" +
    `    sys.exit(${attr}())\n`
  );
}

/** `sha256=<urlsafe base64, no padding>` as RECORD wants it. */
export function recordHash(data: string | Buffer): string {
  return `sha256=${createHash('sha256').update(data).digest('base64url')}`;
}

/** One RECORD line (CSV, quoted only when needed). */
export function csvRow(row: readonly string[]): string {
  return row.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}
