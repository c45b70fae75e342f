/**
 * fish through the shared shell adapter conformance suite: quoting, unset/empty, keep/putBack,
 * the prompt tag, PATH and the subshell.
 */
import { describeShellAdapter } from '../../../test/support/shell-conformance.js';
import { fish } from '../src/adapters.js';
import { FISH_NO_CONFIG, fishDump, SOURCE_IN_FUNCTION } from './fish.js';

describeShellAdapter(fish, {
  argv: FISH_NO_CONFIG,
  ext: 'fish',
  setup: SOURCE_IN_FUNCTION,
  source: (file) => `__blast_test_source ${fish.quote(file)}`,
  sourceTop: (file) => `builtin source ${fish.quote(file)}`,
  dump: fishDump,
  // /usr/bin/env: a change may leave PATH without env on it.
  envTo: (file) => `/usr/bin/env -0 > ${fish.quote(file)}`,
  exportVar: (name, value) => `set -gx ${name} ${value}`,
  shellOnly: (name, value) => `set -g ${name} ${value}`,
  prompt: {
    define: "function fish_prompt; printf '[%s] custom> ' $status; end",
    shown: "fish_prompt; printf '\\0'",
    // fish keeps no origin for a copied function (see prompt.test.ts): the comment saying where is dropped.
    definition:
      "if functions -q fish_prompt; functions fish_prompt | string match -rv '^# Defined'; else; printf unset; end; printf '\\0'",
    disable: 'set -g VIRTUAL_ENV_DISABLE_PROMPT 1',
  },
  exit: 'exit 0',
});
