/** The fake CLI for bash and zsh: a path they must quote, and a half-written change in their syntax. */
import { FakeCli as Base } from '../../../test/support/fake-cli.js';

export class FakeCli extends Base {
  constructor(root: string) {
    super(root, {
      dirName: `fake cli 'q' "dq" $(touch pwned) \`touch pwned\` é`,
      halfScript: "export HALF=1\nexport BROKEN='unterminated",
    });
  }
}
