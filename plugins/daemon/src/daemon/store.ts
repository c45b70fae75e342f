/**
 * The environment's state database (nedb through nedb-promises). The daemon is its only writer
 * (nedb keeps the whole file in memory and is not safe for two processes). Every write is followed
 * by a compaction — nedb's crash-safe rewrite (temp file, fsync, rename) — before it is
 * acknowledged, so a change the daemon reported survives kill -9.
 */
import type Datastore from 'nedb-promises';
import type { Change, Packages } from './packages.js';

export interface ChangeRecord extends Change {
  kind: 'change';
  seq: number;
  time: string;
  /** Found at daemon start: the change happened while no daemon watched. */
  offline?: boolean;
}

interface CurrentDoc {
  _id: 'current';
  packages: unknown;
}

type Db = ReturnType<typeof Datastore.create> & { compactDatafileAsync(): Promise<void> };

export class Store {
  private seq = 0;

  private constructor(private readonly db: Db) {}

  static async open(file: string): Promise<Store> {
    // Loaded with the first environment served, not at start-up: the daemon stays lean.
    const { default: nedb } = await import('nedb-promises');
    const db = nedb.create({ filename: file }) as Db;
    await db.load();
    const store = new Store(db);
    const last = (await db.find({ kind: 'change' }).sort({ seq: -1 }).limit(1)) as unknown as ChangeRecord[];
    store.seq = last[0]?.seq ?? 0;
    return store;
  }

  async current(): Promise<Packages | undefined> {
    const doc = (await this.db.findOne({ _id: 'current' })) as unknown as CurrentDoc | null;
    return doc ? fromPairs(doc.packages) : undefined;
  }

  /** Records a change and the packages after it; resolves once both are on disk for good. */
  async record(
    change: Change | undefined,
    packages: Packages,
    offline = false,
  ): Promise<ChangeRecord | undefined> {
    let record: ChangeRecord | undefined;
    if (change) {
      record = { kind: 'change', seq: ++this.seq, time: new Date().toISOString(), ...change };
      if (offline) record.offline = true;
      await this.db.insert(record);
    }
    // Keys of nedb documents may not contain dots: store the versions as a list of pairs.
    await this.db.update(
      { _id: 'current' },
      { _id: 'current', packages: toPairs(packages) },
      { upsert: true },
    );
    await this.db.compactDatafileAsync();
    return record;
  }

  async setMeta(meta: Record<string, unknown>): Promise<void> {
    await this.db.update({ _id: 'meta' }, { _id: 'meta', ...meta }, { upsert: true });
    await this.db.compactDatafileAsync();
  }

  async history(limit: number): Promise<ChangeRecord[]> {
    const docs = (await this.db.find({ kind: 'change' }).sort({ seq: -1 }).limit(limit)) as unknown as Array<
      ChangeRecord & { _id?: string }
    >;
    return docs.map(({ _id, ...rest }) => rest as ChangeRecord);
  }
}

function toPairs(packages: Packages): unknown {
  return Object.entries(packages).sort(([a], [b]) => a.localeCompare(b));
}

export function fromPairs(value: unknown): Packages | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Packages = {};
  for (const pair of value)
    if (Array.isArray(pair) && pair.length === 2) out[String(pair[0])] = String(pair[1]);
  return out;
}
