/**
 * The environment's constraints file, `<env>/blast-constraints.txt`, written from its settings,
 * and the PIP_CONSTRAINT value that points pip at it.
 *
 * PIP_CONSTRAINT is a whitespace-separated list for pip, so a path with a space in it would be
 * read as several files: it holds a `file:` URL instead (pip reads those, percent-decoded).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { replaceFile } from './replace-file.js';

export const CONSTRAINTS_FILE = 'blast-constraints.txt';

export function constraintsPath(envPath: string): string {
  return join(envPath, CONSTRAINTS_FILE);
}

export function constraintsUrl(envPath: string): string {
  return pathToFileURL(constraintsPath(envPath)).href;
}

export function constraintsText(constraints: readonly string[]): string {
  return (
    "# Written by Blast from this environment's settings (`blast config constraint=...`); edits here are lost.\n" +
    constraints.map((c) => `${c}\n`).join('')
  );
}

/** Is the file on disk what the settings say? */
export function constraintsInSync(envPath: string, constraints: readonly string[]): boolean {
  const file = constraintsPath(envPath);
  if (!existsSync(file)) return constraints.length === 0;
  try {
    return readFileSync(file, 'utf8') === constraintsText(constraints);
  } catch {
    return false;
  }
}

/**
 * Bring the file in line with the settings. With no constraints and no file, nothing is written
 * (an environment without constraints carries nothing of ours); a file an activation may point at
 * is kept, emptied, so pip never fails to open it. Returns whether the file exists now.
 */
export function writeConstraints(envPath: string, constraints: readonly string[]): boolean {
  const file = constraintsPath(envPath);
  if (constraints.length === 0 && !existsSync(file)) return false;
  if (!constraintsInSync(envPath, constraints)) replaceFile(file, constraintsText(constraints));
  return true;
}

/**
 * PIP_CONSTRAINT for pip: the user's own constraint files (from their environment) and ours.
 * Blast's own files are dropped from the inherited value first: an activated shell already
 * carries this environment's, or another environment's when switching from one.
 */
export function pipConstraintValue(envPath: string, inherited: string | undefined): string {
  const ours = constraintsUrl(envPath);
  const theirs = (inherited ?? '')
    .split(/\s+/)
    .filter((v) => v !== '' && v !== ours && !v.endsWith(`/${CONSTRAINTS_FILE}`));
  return [...theirs, ours].join(' ');
}
