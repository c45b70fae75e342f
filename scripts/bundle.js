// Bundles what the activation's lean path loads, so Node 20 loads a few files instead of dozens:
// it loads each ES module separately (resolve, read, compile, link), and for the seventy-odd
// modules of `blast start` that costs as much as Node's own start-up.
//  - the core: dist/lib/plugin-host/lean.js and what it imports, into dist/lean/lean.js (parts
//    used only now and then, such as creation and recovery, are parsed but not run);
//  - each bundled plugin's event handlers, into the plugin's dist/handlers.lean.js (beside the
//    modules they come from, so `import.meta.url` still points where it did), with a map
//    dist/lean-hooks.json from each handler's path to its namespace in that file.
// Each bundle's inputs are listed with their mtimes (dist/lean/inputs.json, and `inputs` in
// lean-hooks.json): a bundle is used only while every file it was made from is unchanged (a
// `tsc -b` without this step leaves the bundles behind, not wrong).
// Packages in node_modules stay outside. oclif itself still loads the handlers by their paths.
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The name of a plugin bundle's generated entry (not a file: left out of the inputs). */
const ENTRY = '(lean handlers entry)';
const common = {
  bundle: true,
  // The core's one entry in one file: Node 20 loads each ES module on its own (resolve, read,
  // compile, link), and a part that is parsed but not run costs less than a chunk more to load.
  // Code imported lazily stays lazy (evaluated when first imported), and so do packages.
  splitting: false,
  // Fewer bytes to read and pre-parse; names stay (stack traces name the functions).
  minifyWhitespace: true,
  minifySyntax: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
};

/** Every input of a build and its mtime, relative to `base`: a bundle is used only while they hold. */
function inputsOf(metafile, base) {
  return Object.fromEntries(
    Object.keys(metafile.inputs)
      .filter((file) => !file.endsWith(ENTRY))
      .map((file) => {
        const abs = join(root, file);
        return [relative(base, abs), statSync(abs).mtimeMs];
      }),
  );
}

const outdir = join(root, 'dist', 'lean');
rmSync(outdir, { recursive: true, force: true });
const core = await build({
  ...common,
  entryPoints: [join(root, 'dist', 'lib', 'plugin-host', 'lean.js')],
  outdir,
  metafile: true,
  absWorkingDir: root,
});
writeFileSync(join(outdir, 'inputs.json'), JSON.stringify(inputsOf(core.metafile, root)) + '\n');
console.log('bundle: dist/lean/lean.js');

for (const name of readdirSync(join(root, 'plugins'))) {
  const dir = join(root, 'plugins', name);
  let pjson;
  try {
    pjson = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    continue;
  }
  const dist = join(dir, 'dist');
  for (const file of readdirSync(dist, { withFileTypes: true }))
    if (file.isFile() && file.name.endsWith('.lean.js')) rmSync(join(dist, file.name));
  const targets = [
    ...new Set(
      Object.values(pjson.oclif?.hooks ?? {})
        .flat()
        .map((h) => (typeof h === 'string' ? h : h.target)),
    ),
  ].filter((t) => typeof t === 'string' && t.startsWith('./dist/') && t.endsWith('.js'));
  if (targets.length === 0) continue;
  // One file per plugin, each handler's module a namespace in it: a module's state (what the
  // isolation plugin's wrap handler started, which its postInstall handler reads) is one, as when
  // oclif imports the handlers' modules, and an activation loads one file per plugin.
  const made = await build({
    ...common,
    stdin: {
      contents: targets.map((t, i) => `export * as h${i} from ${JSON.stringify(t)};`).join('\n'),
      resolveDir: dir,
      sourcefile: ENTRY,
      loader: 'js',
    },
    outfile: join(dist, 'handlers.lean.js'),
    metafile: true,
    absWorkingDir: root,
  });
  const map = {
    hooks: Object.fromEntries(
      targets.map((t, i) => [t, { bundle: './dist/handlers.lean.js', export: `h${i}` }]),
    ),
    inputs: inputsOf(made.metafile, dir),
  };
  writeFileSync(join(dist, 'lean-hooks.json'), JSON.stringify(map, null, 2) + '\n');
  console.log(`bundle: ${pjson.name} (${targets.length} handlers)`);
}
