// A separate process that registers `count` environments, to race another one in the registry test.
import { withRegistry } from '../../src/lib/envs/registry.js';

const [blastHome, prefix, count] = process.argv.slice(2);
const env = { ...process.env, BLAST_HOME: blastHome };
for (let i = 0; i < Number(count); i++) {
  const name = `${prefix}-${i}`;
  await withRegistry(env, (tx) =>
    tx.put({
      name,
      path: `/envs/${name}`,
      kind: 'named',
      python: { executable: '/usr/bin/python3', version: '3.11.2', implementation: 'CPython' },
      createdAt: new Date().toISOString(),
    }),
  );
}
