// Writes oclif.manifest.json for each package given (the core and every plugin), so oclif
// finds commands and hooks without importing every command at start-up. This is what
// `oclif manifest` does; doing it here spares the project that tool's large dependency tree.
import { Plugin } from '@oclif/core/config';
import { writeFile } from 'node:fs/promises';
import { resolve, join } from 'node:path';

for (const dir of process.argv.slice(2)) {
  const root = resolve(dir);
  const plugin = new Plugin({
    root,
    type: 'core',
    ignoreManifest: true,
    errorOnManifestCreate: true,
    isRoot: true,
  });
  await plugin.load();
  const manifest = JSON.parse(JSON.stringify(plugin.manifest));
  await writeFile(join(root, 'oclif.manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  console.log(`manifest: ${plugin.name} (${Object.keys(manifest.commands).length} commands)`);
}
