/** The content-addressed store, snapshots and restore by re-linking (DESIGN §6). */
export { ObjectStore, storeDir, hashFile, keyOf } from './objects.js';
export type { ObjectRef } from './objects.js';
export { installedDists, sitePackagesOf, recordPaths } from './dists.js';
export type { InstalledDist } from './dists.js';
export {
  snapshotEnv,
  parseManifest,
  readManifest,
  saveManifest,
  loadSnapshot,
  listSnapshots,
  snapshotsDir,
  envHash,
} from './manifest.js';
export type {
  Manifest,
  SnapshotStats,
  DistEntry,
  Entry,
  FileEntry,
  LinkEntry,
  SnapshotSummary,
} from './manifest.js';
export { restoreEnv, recoverEnv, planRestore, journalPath, envStateDir, CRASH_STEPS } from './restore.js';
export type { RestoreResult, Recovery, Step, PathState } from './restore.js';
