/** Representative changes, shaped like what the core's start and kill hand an adapter. */
import type { ShellChange } from 'blast/contract';

/** Shaped like the core's startChange: PYTHONHOME unset, PATH first, state last, tag. */
export const ACTIVATION: ShellChange = {
  unset: ['PYTHONHOME'],
  set: [
    ['BLAST_ENV', 'demo'],
    ['GREETING', "it's “quoted” — ‘all’ $(the) `way` down\nline 2"],
    ['PATH', '/home/u/.local/share/blast/envs/demo/bin:/usr/local/bin:/usr/bin:/bin'],
    ['VIRTUAL_ENV', '/home/u/.local/share/blast/envs/demo'],
    ['VIRTUAL_ENV_PROMPT', 'demo'],
    ['BLAST_SHELL_STATE', 'eyJ2IjoxLCJlbnYiOnsibmFtZSI6ImRlbW8ifX0'],
  ],
  prompt: { action: 'tag', tag: '(demo) ' },
};

/** Shaped like the core's killChange: what was unset goes, what was there comes back, prompt restored. */
export const DEACTIVATION: ShellChange = {
  unset: ['BLAST_ENV', 'BLAST_SHELL_STATE', 'GREETING', 'VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT'],
  set: [
    ['PATH', '/usr/local/bin:/usr/bin:/bin'],
    ['PYTHONHOME', ''],
  ],
  prompt: { action: 'restore' },
};
