/**
 * Runs before every command, so it must stay cheap: no I/O, only the package.json data oclif
 * already loaded. It makes a relative BLAST_HOME absolute (once, for every process Blast starts),
 * and drops Blast plugins whose declared API range the core does not satisfy,
 * so their handlers never run, and says why once.
 */
import type { Hook } from '@oclif/core';
import { incompatiblePlugins } from '../lib/api-version.js';
import { absolutizeHomeVariables } from '../lib/absolute-home.js';

const hook: Hook<'init'> = async function (options) {
  absolutizeHomeVariables();
  for (const { name, reason } of incompatiblePlugins(options.config)) {
    options.config.plugins.delete(name);
    process.stderr.write(`blast: warning: plugin ${name} skipped: ${reason}\n`);
  }
};

export default hook;
