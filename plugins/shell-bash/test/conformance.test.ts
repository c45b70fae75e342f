/**
 * bash and zsh (in every variant of variants.ts) through the shared shell adapter conformance
 * suite: quoting, unset/empty, keep/putBack, the prompt tag, PATH and the subshell.
 */
import { describeShellAdapter } from '../../../test/support/shell-conformance.js';
import { posixDump } from '../../../test/support/shells.js';
import { SOURCE_IN_FUNCTION, VARIANTS } from './variants.js';

const ORIGINAL: Record<string, string> = { bash: '\\u@\\h:\\w\\$ ', zsh: '%n@%m %~ %# ' };
const SHOWN: Record<string, string> = {
  bash: `printf '%s\\0' "\${PS1@P}"`,
  zsh: `print -rnP -- "$PS1"; printf '\\0'`,
};

for (const variant of VARIANTS) {
  const { adapter } = variant;
  describeShellAdapter(
    adapter,
    {
      argv: variant.argv,
      ext: 'sh',
      setup: ['set -eu', variant.setup, SOURCE_IN_FUNCTION].join('\n'),
      source: (file) => `__blast_test_source ${adapter.quote(file)}`,
      sourceTop: (file) => `. ${adapter.quote(file)}`,
      dump: posixDump,
      envTo: (file) => `env -0 > ${adapter.quote(file)}`,
      exportVar: (name, value) => `export ${name}=${value}`,
      shellOnly: (name, value) => `${name}=${value}`,
      prompt: {
        define: `PS1=${adapter.quote(ORIGINAL[adapter.name]!)}`,
        shown: SHOWN[adapter.name]!,
        definition: `if [ -n "\${PS1+x}" ]; then printf 'set:%s\\0' "$PS1"; else printf 'unset\\0'; fi`,
        disable: 'VIRTUAL_ENV_DISABLE_PROMPT=1',
      },
      exit: 'exit 0',
    },
    { label: variant.label },
  );
}
