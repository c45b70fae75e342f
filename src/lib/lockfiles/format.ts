/** Which lock format a file name asks for. */
import { basename } from 'node:path';
import { BlastError, ExitCode } from '../cli/errors.js';
import type { LockFormat } from './types.js';

/** `pylock.toml` / `pylock.NAME.toml` (PEP 751), or a `.txt` requirements file; anything else is an error. */
export function lockFormat(file: string): LockFormat {
  const name = basename(file).toLowerCase();
  if (/^pylock\.([^.]+\.)?toml$/.test(name)) return 'pylock';
  if (name.endsWith('.txt') && name.length > '.txt'.length) return 'requirements';
  throw new BlastError(
    `Cannot tell the lock format of ${JSON.stringify(basename(file))}.`,
    ExitCode.usage,
    'Name it requirements.txt (or any *.txt) for pinned requirements with hashes, or pylock.toml / pylock.NAME.toml for PEP 751.',
  );
}
