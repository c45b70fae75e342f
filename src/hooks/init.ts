/**
 * Runs before every command, so it must stay cheap: no I/O, only the package.json data oclif
 * already loaded. It makes a relative BLAST_HOME absolute (once, for every process Blast starts),
 * and drops Blast plugins whose declared API range the core does not satisfy,
 * so their handlers never run, and says why once. Through the function of a generated init file,
 * it also checks that file's stamp (shell-init.ts).
 */
import type { Hook } from '@oclif/core';
import { incompatiblePlugins } from '../lib/plugin-host/api-version.js';
import { absolutizeHomeVariables } from '../lib/cli/absolute-home.js';

const hook: Hook<'init'> = async function (options) {
  absolutizeHomeVariables();
  for (const { name, reason } of incompatiblePlugins(options.config)) {
    options.config.plugins.delete(name);
    process.stderr.write(`blast: warning: plugin ${name} skipped: ${reason}\n`);
  }
  // The function from Blast's generated init file passes its stamp: a stale file is rewritten (a
  // few stat calls when it is not; the module loads only for such calls).
  if (process.env.BLAST_SHELL_INIT) {
    const { refreshInitFile } = await import('../lib/shell/init-file.js');
    await refreshInitFile(options.config, process.env);
  }
};

export default hook;
