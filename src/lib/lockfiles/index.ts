/** Lock files: `blast save --lock` writes them, `blast load --lock` makes an environment match one. */
export { lockFormat } from './format.js';
export { writeRequirements, parseRequirements } from './requirements.js';
export { writePylock, parsePylock } from './pylock.js';
export { lockInputs, type LockInputs } from './archives.js';
export { readLock, planLock, applyLock, type LockPlan, type LockResult, type ApplyOptions } from './apply.js';
export type { Lock, LockFormat, LockedArchive, LockedDist, SkippedDist } from './types.js';
export { loadLock, lockReport, type LockLoaded, type LoadLockOptions } from './load.js';
