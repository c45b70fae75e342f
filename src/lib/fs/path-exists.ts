/** Whether something is at `path` (following links); any error reads as "no". */
import { stat } from 'node:fs/promises';

export async function pathExists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
