/** The content-addressed store, snapshots and restore by re-linking (DESIGN §6). */
export { ObjectStore, storeDir, hashFile, keyOf, refOfKey } from './objects.js';
export type { ObjectRef, Seal, SealHint, Verified } from './objects.js';
export { LINK_MODES, linkModeOf } from './link-mode.js';
export type { LinkMode } from './link-mode.js';
export { deepCheck, fixDamaged } from './integrity.js';
export type { DeepReport, DamagedObject, Unrestorable } from './integrity.js';
export { installedDists, installedNames, sitePackagesOf, recordPaths } from './dists.js';
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
  manifestProblem,
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
export { restoreEnv, planRestore, journalPath, envStateDir, CRASH_STEPS } from './restore.js';
export {
  commandLine,
  ENV_LOCK_WAIT_MS,
  envLockFile,
  type EnvLockKind,
  tryWithEnvLock,
  withEnvLock,
  withEnvLockAsync,
} from './restore.js';
export type { RestoreResult, Step, PathState, RestoringMarker } from './restore.js';
export {
  recoverEnv,
  recoverAll,
  interruptedChange,
  hasJournal,
  halfRestored,
  repairHalfRestored,
  salvageEnv,
} from './recover.js';
export type { Recovery, RecoverOptions } from './recover.js';
export {
  beginTransaction,
  endTransaction,
  releaseReserve,
  setPhase,
  transactionState,
  transactionRunsError,
  transactionJournalPath,
  transactionBeforePath,
  transactionReservePath,
  RESERVE_BYTES,
  TRANSACTION_CRASH_STEPS,
} from '../transaction/journal.js';
export type {
  TransactionJournal,
  TransactionBefore,
  TransactionPhase,
  TransactionState,
} from '../transaction/journal.js';
export { treePaths, removeStrays } from './strays.js';
export {
  recordRevision,
  listRevisions,
  readRevision,
  latestRevision,
  revisionsToPrune,
  revisionsDir,
  fingerprintOf,
  changeOf,
  describeChange,
  REVISION_SOURCES,
} from './revisions.js';
export type { Revision, RevisionSummary, RevisionSource, RevisionChange } from './revisions.js';
export { recordCurrent, latestManifest, timeline } from './history.js';
export type { Synced, TimelineEntry } from './history.js';
export {
  planStoreGc,
  orphanedHistory,
  pruneRevisionDir,
  removeObjects,
  removeTemps,
  referencedObjects,
  keepRevisions,
  DEFAULT_KEEP_REVISIONS,
} from './gc.js';
export type { StoreGc, RevisionPrune, GcOptions } from './gc.js';
export { serveFromStore, planServe, rememberServed, reshebang } from './serve.js';
export type { WantedDist, ServePlan, ServedDist, ServeResult, ServeOptions } from './serve.js';
export { storedIndex, distKey, wheelTags } from './dist-index.js';
export type { IndexedDist, IndexedSource } from './dist-index.js';
export { knownWheels, rememberWheels, wheelOf, wheelKey } from './wheels.js';
export type { WheelOrigin, WheelNote } from './wheels.js';
