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
  const lines = text.split('\n');
  const prompt = values.__VENV_PROMPT__;
  const guarded = dialect === 'sh' && PROMPT_ACTIVE.test(prompt);
  return lines
    .flatMap((line) => {
      if (guarded) {
        const ps1 = PS1_LINE.exec(line);
        if (ps1 && ps1[2]!.includes('__VENV_PROMPT__'))
          return shPromptBlock(ps1[1]!, ps1[2]!, prompt, values);
        const restore = RESTORE_LINE.exec(line);
        if (restore) return [line, `${restore[1]}unset ${SH_PROMPT_VAR}`];
      }
      if (dialect === 'csh' && CSH_PROMPT_LINE.test(line))
        return [renderLine(line, dialect, cshPromptValues(values))];
      return [line.includes('__VENV_') ? renderLine(line, dialect, values) : line];
    })
    .join('\n');
}

/**
 * A prompt is expanded again each time it is shown: by bash (promptvars, on by default), zsh with
 * PROMPT_SUBST, ksh and dash, which run `$(…)` and backquotes in it, and zsh reads `%` escapes in
 * it. Quoting the name for the assignment (`PS1="(…)"`) is not enough: the assigned value still
 * holds `$(touch pwn)`, run at every prompt (CPython's venv has the same bug). So a name with any
 * of these characters goes into PS1 as a reference to a variable holding it, whose value no shell
 * expands again; where the shell does not expand prompts (zsh without PROMPT_SUBST, bash with
 * promptvars off) the literal name goes in, escaped for what that shell still reads (`%`, `\`).
 * Other names keep the template's line as it is.
 */
const PROMPT_ACTIVE = /[$`\\%]/;
const PS1_LINE = /^(\s*)PS1=(.*)$/;
const RESTORE_LINE = /^(\s*)unset _OLD_VIRTUAL_PS1\s*$/;
const SH_PROMPT_VAR = '_BLAST_VENV_PROMPT';

/**
 * tcsh reads `%` escapes in its prompt (`%n` is the user name): in a line that builds the prompt
 * (directly, or through 3.8's env_name), the name's `%` is doubled so it shows as written. tcsh does
 * not run backquotes in a prompt; its `!` (the history number) has no escape and stays.
 */
const CSH_PROMPT_LINE = /^\s*set\s+(prompt|env_name)\s*=.*__VENV_/;

function cshPromptValues(values: Readonly<Record<Placeholder, string>>): Record<Placeholder, string> {
  const out = { ...values };
  for (const name of PLACEHOLDERS) out[name] = values[name].replaceAll('%', '%%');
  return out;
}

/**
 * The right-hand side of a template's `PS1=` with the prompt placeholder replaced by a reference to
 * `ref` written for the quoting context it sits in (`"(__VENV_PROMPT__) ${PS1:-}"` in CPython,
 * `__VENV_PROMPT__"${PS1:-}"` in Debian's), other placeholders rendered as usual.
 */
function ps1Value(rhs: string, ref: string, values: Readonly<Record<Placeholder, string>>): string {
  const pieces = rhs.split('__VENV_PROMPT__');
  let out = '';
  let before = '';
  for (const [k, piece] of pieces.entries()) {
    if (k > 0) {
      const context = contextAfter(before);
      out += context === 'double' ? `\${${ref}}` : context === 'single' ? `'"\${${ref}}"'` : `"\${${ref}}"`;
    }
    out += piece;
    before += piece + (k < pieces.length - 1 ? 'X' : '');
  }
  return renderLine(out, 'sh', values);
}

/** The sh quoting context at the end of `text` (which starts bare). */
function contextAfter(text: string): Context {
  let context: Context = 'bare';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (context === 'bare') {
      if (ch === '\\') i++;
      else if (ch === "'") context = 'single';
      else if (ch === '"') context = 'double';
    } else if (context === 'single') {
      if (ch === "'") context = 'bare';
    } else if (ch === '\\') i++;
    else if (ch === '"') context = 'bare';
  }
  return context;
}

function shPromptBlock(
  indent: string,
  rhs: string,
  prompt: string,
  values: Readonly<Record<Placeholder, string>>,
): string[] {
  const v = SH_PROMPT_VAR;
  const ref = `${v}_REF`;
  const i = indent;
  return [
    `${i}# The name is shown through a variable: a prompt is expanded again at every display.`,
    `${i}${v}=${quote(prompt, 'sh', 'bare')}`,
    `${i}${ref}='\${${v}}'`,
    `${i}if [ -n "\${ZSH_VERSION:-}" ]; then`,
    `${i}    eval '${v}=\${${v}//\\%/%%}'`,
    `${i}    [[ -o promptsubst ]] || ${ref}=$${v}`,
    `${i}elif [ -n "\${BASH_VERSION:-}" ] && ! shopt -q promptvars 2>/dev/null; then`,
    `${i}    eval '${ref}=\${${v}//\\\\/\\\\\\\\}'`,
    `${i}fi`,
    `${i}PS1=${ps1Value(rhs, ref, values)}`,
    `${i}unset ${ref}`,
  ];
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
