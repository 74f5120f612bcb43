/**
 * The server's configuration, loaded by `confab serve` (compiled with esbuild, so it is type-checked
 * TypeScript and may import anything). Command-line flags (--host, --port, --data-dir, --log-level)
 * override the `server` block; every server option and its default is listed in core/types.ts.
 */
import { defineConfig } from './core/config.js';
import { builtinPlugins } from './plugins/index.js';

export default defineConfig({
  server: { host: '127.0.0.1', port: 5000 },
  // Options for a built-in plugin go by its name, e.g. { chat: { historyLimit: 500, maxTextLength: 2000 } }.
  // A wrong option (historyLimit: -1) stops the server before it listens, naming the plugin and the option.
  // Your own plugins go in the same list: plugins: [...builtinPlugins(), myPlugin()].
  // Example and lab plugins are not built in; import and add them the same way (docs/plugin-guide.md):
  //   import { polls } from './plugins/examples/polls/server.js';            polls()
  //   import { handRaise } from './plugins/examples/hand-raise/server.js';   handRaise()
  //   import { whiteboard } from './plugins/examples/whiteboard/server.js';  whiteboard()
  //   import { inspector } from './plugins/inspector/server.js';             inspector({ pcap: true }), listed first; then confab trace --follow
  //   import { impairment } from './plugins/impairment/server.js';           impairment({ seed: 1 })
  plugins: builtinPlugins({ chat: { historyLimit: 100 } }),
});
