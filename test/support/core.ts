/**
 * The core's own answers, for plugins' tests (which may not import the core themselves): the
 * directories every event's `ctx` carries, computed by the core's rules, and the revisions the
 * core keeps in the store — what a test compares a plugin's behaviour against.
 */
export { envStateDir, runtimeDir, stateDir } from '../../src/lib/paths.js';
export { listRevisions, ObjectStore } from '../../src/lib/store/index.js';
