/** The settings this plugin owns; filled in with the plugin's features. */
import type { Hook } from '@oclif/core';
import type {} from 'blast/hooks';

const hook: Hook<'settings'> = async () => [];
export default hook;
