/**
 * The elvish adapter through Blast's shell adapter conformance suite, in real elvish. Elvish's
 * variables live apart from its environment (no keep/putBack) and its prompt exists only in the
 * line editor, so those cases are the suite's environment-only ones.
 */
import { describeShellAdapter } from '../../../test/support/shell-conformance.js';
import { elvish, quote } from '../src/adapter.js';

/** The namespace the `blast` function evaluates a script in (see init), without a line editor. */
const STATE_NS = "(ns [&saved=$false &old-prompt=$nil &tag='' &show-tag~={ } &restore-prompt~={ }])";

describeShellAdapter(elvish, {
  argv: ['elvish'],
  ext: 'elv',
  source: (file) => `eval &ns=${STATE_NS} (slurp < ${quote(file)})`,
  dump: (names) =>
    names
      .map(
        (n) =>
          `if (has-env ${n}) { print 'set'"\\x00"(get-env ${n})"\\x00" } else { print "unset\\x00\\x00" }`,
      )
      .join('\n'),
  envTo: (file) => `e:env -0 > ${quote(file)}`,
  exportVar: (name, value) => `set-env ${name} ${value}`,
  exit: 'exit 0',
});
