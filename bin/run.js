#!/usr/bin/env node
// The `blast` executable. Everything else loads lazily through oclif's manifest.

// `blast --version` is asked by scripts and prompts; answered here, in oclif's format, it costs
// Node's start-up alone instead of loading oclif (~90 ms more).
if (process.argv.length === 3 && process.argv[2] === '--version') {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`blast/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (!(await lean())) {
  // Subpaths, not the package's index: the index loads help, ux and the rest up front (~50 more
  // modules, ~10 ms on every command). Commands import what they use the same way.
  const [{ execute }, { settings }] = await Promise.all([
    import('@oclif/core/execute'),
    import('@oclif/core/settings'),
  ]);
  // Linked plugins run from their built JavaScript; without this, oclif warns on every command
  // that a linked TypeScript plugin "cannot be auto-transpiled".
  settings.enableAutoTranspile = false;
  await execute({ dir: import.meta.url });
}

/**
 * `blast start [NAME]` and `blast kill` through the shell function (every activation), `blast
 * pip -- …` through the pip shim (every pip) and a plain `blast load` (a rollback) skip oclif:
 * see src/lib/plugin-host/lean.ts, bundled by scripts/bundle.js. True when the command ran there.
 */
async function lean() {
  const [command] = process.argv.slice(2);
  // start and kill through the shell function, pip through the shim, a plain load (see plain() in lean.ts).
  if (!(
    command === 'pip' ||
    command === 'load' ||
    ((command === 'start' || command === 'kill') && process.env.BLAST_SHELL)
  ))
    return false;
  // The bundle while it is of the files as they are (see scripts/bundle.js), else the modules.
  const { readFileSync, statSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('..', import.meta.url));
  let fresh = false;
  try {
    const inputs = JSON.parse(readFileSync(join(root, 'dist', 'lean', 'inputs.json'), 'utf8'));
    fresh = Object.entries(inputs).every(
      ([file, mtimeMs]) => statSync(join(root, file), { throwIfNoEntry: false })?.mtimeMs === mtimeMs,
    );
  } catch {
    // no bundle
  }
  const { runLean } = await import(fresh ? '../dist/lean/lean.js' : '../dist/lib/plugin-host/lean.js');
  try {
    const status = await runLean(root, process.argv.slice(2));
    if (status === undefined) return false;
    process.exitCode = status;
  } catch (error) {
    // A bug, not the user's: shown as oclif shows one.
    const { handle } = await import('@oclif/core/handle');
    await handle(error);
  }
  return true;
}
