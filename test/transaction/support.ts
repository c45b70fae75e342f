/** For tests elsewhere (plugins may not import the core's src): where the activation puts the pip shim. */
export { shimDirFor } from '../../src/lib/transaction/shim.js';
