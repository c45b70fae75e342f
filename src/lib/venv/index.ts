/** Venv creation and inspection: the public surface for commands and checks. */
export { createVenv, layoutOf, staleTemps, TEMP_PREFIX } from './create.js';
export type { CreateOptions } from './create.js';
export { readVenv, parseCfg } from './cfg.js';
export type { VenvInfo } from './cfg.js';
export { listSeeds, staleSeedTemps, sparesWanted } from './seed.js';
