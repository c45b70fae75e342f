/**
 * `Promise.all` over a list with at most `limit` calls in flight: for work that starts a process
 * per item (a Python in each of a hundred environments), where all at once would make the
 * machine thrash instead of finishing sooner. Results keep the items' order.
 */
import { availableParallelism } from 'node:os';

/** Processes worth running at once: a couple per core (they mostly wait on their own start-up). */
export function processLimit(): number {
  return Math.max(2, availableParallelism() * 2);
}

export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
