/** Run by the crash tests in a child process: restore `argv[2]` from the manifest file `argv[3]`. */
import { readManifest, restoreEnv } from '../../src/lib/store/index.js';

const [envPath, manifestFile] = process.argv.slice(2) as [string, string];
restoreEnv(envPath, readManifest(manifestFile));
process.stdout.write('restored\n');
