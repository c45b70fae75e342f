/**
 * @renovatebot/pep440, loaded on first use. It is CommonJS, a dozen modules (~10 ms to load), and
 * every event this plugin answers would otherwise load it on the way, also those that compare no
 * version at all (`activate`, an install's `preInstall`).
 */
import type * as Pep440Module from '@renovatebot/pep440';
import { createRequire } from 'node:module';

type Pep440 = typeof Pep440Module;

let loaded: Pep440 | undefined;

export function pep440(): Pep440 {
  return (loaded ??= createRequire(import.meta.url)('@renovatebot/pep440') as Pep440);
}
