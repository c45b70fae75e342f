/**
 * bin/activate and friends, rendered from the interpreter's own venv templates. Older templates
 * put placeholders inside quotes ("__VENV_DIR__"), newer ones leave them bare and have venv
 * quote the value; either way each placeholder is replaced by the value quoted for the quoting
 * context it sits in, by the rules of the template's shell, so any path is safe.
 */
type Dialect = 'sh' | 'fish' | 'csh' | 'ps1';
type Context = 'bare' | 'single' | 'double';

export const PLACEHOLDERS = [
  '__VENV_DIR__',
  '__VENV_NAME__',
  '__VENV_PROMPT__',
  '__VENV_BIN_NAME__',
  '__VENV_PYTHON__',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** The shell a template is for, by its name; undefined for ones a POSIX venv does not need (.bat). */
export function dialectOf(name: string): Dialect | undefined {
  if (name.endsWith('.fish')) return 'fish';
  if (name.endsWith('.csh')) return 'csh';
  if (name.endsWith('.ps1')) return 'ps1';
  if (name.endsWith('.bat') || name.endsWith('.exe') || name.endsWith('.pdb')) return undefined;
  return 'sh';
}

const SH_SAFE = /^[\w@%+=:,./-]+$/;
/** Characters that mean nothing to fish or csh either (no `%`: old fish expands it). */
const SAFE = /^[\w@+=:,./-]+$/;

function quote(value: string, dialect: Dialect, context: Context): string {
  switch (dialect) {
    case 'sh':
      if (context === 'double') return value.replace(/[\\"$`]/g, '\\$&');
      if (context === 'single') return value.replace(/'/g, `'\\''`);
      return SH_SAFE.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
    case 'fish': {
      if (context === 'double') return value.replace(/[\\"$]/g, '\\$&');
      if (context === 'bare' && SAFE.test(value)) return value;
      const inner = value.replace(/[\\']/g, '\\$&');
      return context === 'single' ? inner : `'${inner}'`;
    }
    case 'csh': {
      // csh has no escapes inside quotes: leave the quotes, add a single-quoted piece, reopen.
      if (context === 'double' && /^[^"$!`\\\n]*$/.test(value)) return value;
      if (context === 'bare' && SAFE.test(value)) return value;
      const inner = value.replace(/'/g, `'\\''`).replace(/!/g, '\\!').replace(/\n/g, '\\\n');
      if (context === 'double') return `"'${inner}'"`;
      if (context === 'single') return inner;
      return `'${inner}'`;
    }
    case 'ps1':
      if (context === 'double') return value.replace(/[`"$]/g, '`$&');
      if (context === 'single') return value.replace(/'/g, "''");
      return `'${value.replace(/'/g, "''")}'`;
  }
}

/**
 * Replace the placeholders in one template. The quoting context is tracked line by line from
 * the start of each line (the templates keep their strings on one line).
 */
export function renderTemplate(
  text: string,
  dialect: Dialect,
  values: Readonly<Record<Placeholder, string>>,
): string {
  if (!text.includes('__VENV_')) return text;
  return text
    .split('\n')
    .map((line) => (line.includes('__VENV_') ? renderLine(line, dialect, values) : line))
    .join('\n');
}

function renderLine(line: string, dialect: Dialect, values: Readonly<Record<Placeholder, string>>): string {
  let out = '';
  let context: Context = 'bare';
  let i = 0;
  while (i < line.length) {
    if (line.startsWith('__VENV_', i)) {
      const name = PLACEHOLDERS.find((p) => line.startsWith(p, i));
      if (name) {
        out += quote(values[name], dialect, context);
        i += name.length;
        continue;
      }
    }
    const ch = line[i] as string;
    out += ch;
    i++;
    if (context === 'bare') {
      if (ch === "'") context = 'single';
      else if (ch === '"') context = 'double';
      else if ((ch === '\\' && dialect !== 'ps1') || (ch === '`' && dialect === 'ps1')) {
        if (i < line.length) out += line[i++];
      } else if (ch === '#' && dialect !== 'csh' && (i === 1 || /\s/.test(line[i - 2] as string))) {
        // A comment: values go in as they are, on one line.
        out += line
          .slice(i)
          .replace(/__VENV_[A-Z_]+__/g, (m) =>
            m in values ? (values[m as Placeholder] as string).replace(/[\r\n]/g, ' ') : m,
          );
        break;
      }
    } else if (context === 'single') {
      if (ch === "'") {
        if (dialect === 'ps1' && line[i] === "'") out += line[i++];
        else context = 'bare';
      } else if (ch === '\\' && dialect === 'fish' && i < line.length) out += line[i++];
    } else {
      if (ch === '"') {
        if (dialect === 'ps1' && line[i] === '"') out += line[i++];
        else context = 'bare';
      } else if (
        ((ch === '\\' && (dialect === 'sh' || dialect === 'fish')) || (ch === '`' && dialect === 'ps1')) &&
        i < line.length
      ) {
        out += line[i++];
      }
    }
  }
  return out;
}
