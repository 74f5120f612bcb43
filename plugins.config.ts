/**
 * The server's configuration, loaded by `confab serve` (compiled with esbuild, so it is type-checked
 * TypeScript and may import anything). Command-line flags (--host, --port, --data-dir, --log-level)
 * override the `server` block; every server option and its default is listed in core/types.ts.
 */
import { defineConfig } from './core/config.js';
import { builtinPlugins } from './plugins/index.js';

// To give a plugin options, put a configured instance in the built-in one's place (keeping the order,
// since a plugin's dependencies must be listed before it). For the chat plugin:
//
//   import { chat } from './plugins/chat/server.js';
//
//   plugins: builtinPlugins().map((plugin) =>
//     plugin.name === 'chat' ? chat({ historyLimit: 500, maxTextLength: 2000 }) : plugin,
//   ),
//
// A wrong option (chat({ historyLimit: -1 })) stops the server before it listens, naming the plugin and
// the option. Your own plugins go in the same list: plugins: [...builtinPlugins(), myPlugin()].

export default defineConfig({
  server: { host: '127.0.0.1', port: 5000 },
  plugins: builtinPlugins(),
});
