/** The fake CLI for fish: a path fish must quote, and a half-written change in fish syntax. */
import { FakeCli as Base } from '../../../test/support/fake-cli.js';

export class FakeCli extends Base {
  constructor(root: string) {
    super(root, {
      dirName: `fake cli 'q' "dq" $(touch pwned) (touch pwned) \\ é`,
      halfScript: "set -gx HALF 1\nset -gx BROKEN 'unterminated",
    });
  }
}
