/**
 * `confab:client-entries`: a module the web plugin makes when it bundles the web client
 * (plugins/web/bundle.ts). It default-exports the client entries of the server's plugins that name one
 * (`client` in definePlugin), in the plugins' order.
 */
declare module 'confab:client-entries' {
  import type { AnyClientEntry } from '../core/client/entry.js';

  /** The client entries of the server's plugins. */
  const entries: readonly AnyClientEntry[];
  export default entries;
}
