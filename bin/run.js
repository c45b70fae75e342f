#!/usr/bin/env node
// The `blast` executable. Kept minimal: everything else loads lazily through oclif's manifest.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
