/** Python discovery: the public surface for commands and checks. */
export { findPython, listInterpreters, discoverInterpreters, foundList } from './discovery.js';
export type { Broken, Discovered } from './discovery.js';
export { parseSpec, SPEC_FORMS, versionSatisfies } from './spec.js';
export type { PythonSpec } from './spec.js';
export type { Interpreter, DiscoveryOptions, ProbeFacts } from './types.js';
export { compareVersionInfo, versionString } from './version.js';
