import { BlastCommand } from '../lib/cli/base-command.js';
import { pipThroughBlast } from '../lib/transaction/pip-command.js';

export default class Pip extends BlastCommand {
  static override hidden = true;
  static override strict = false;
  static override summary =
    "Run the active environment's pip inside a transaction (what the pip shim calls).";
  static override description = `Everything after \`--\` goes to pip unchanged. Commands that may change the environment run between a snapshot and the preInstall/postInstall hooks: when pip fails, or a postInstall handler fails the transaction, the environment is put back exactly as it was. Read-only commands (list, show, freeze, --version, …) just run pip.`;

  static override examples = ['<%= config.bin %> pip -- install requests', '<%= config.bin %> pip -- list'];

  async run(): Promise<void> {
    const status = await pipThroughBlast(
      this.config,
      this.argv[0] === '--' ? this.argv.slice(1) : [...this.argv],
    );
    if (status !== 0) this.exit(status);
  }
}
