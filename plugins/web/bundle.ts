/**
 * Builds the web client with esbuild: the app (`web-client/main.ts`) and the two AudioWorklets, which the
 * browser loads as separate modules. Everything stays in memory; nothing is written to disk.
 *
 * The app imports `confab:client-entries`, a module made here that default-exports the client entries of
 * the server's plugins that name one (`client` in definePlugin): that is how a plugin's web panel and tile
 * overlay get into the page without the web client being edited.
 */
import { fileURLToPath } from 'node:url';
import { build, type Plugin as EsbuildPlugin } from 'esbuild';
import { ConfabError } from '../../core/wire.js';

/** The built files, by URL path. */
export type Bundle = Map<string, Uint8Array>;

/** Entry points (relative to web-client/) → the URL path each is served at. */
const ENTRIES = {
  'main.ts': '/app.js',
  'worklets/capture.ts': '/worklets/capture.js',
  'worklets/playback.ts': '/worklets/playback.js',
} as const;

/** The module the app imports for the plugins' client entries. */
const CLIENT_ENTRIES_MODULE = 'confab:client-entries';

/**
 * Bundles the web client in `webClientDir`, with the client entry modules `clientEntries` (file URLs, in
 * the plugins' order). Throws PLUGIN_INVALID with esbuild's message when it does not build.
 */
export async function bundleWebClient(webClientDir: string, minify: boolean, clientEntries: readonly URL[]): Promise<Bundle> {
  const bundle: Bundle = new Map();
  try {
    for (const [entry, path] of Object.entries(ENTRIES)) {
      const result = await build({
        entryPoints: [webClientDir + entry],
        plugins: [clientEntriesModule(clientEntries)],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        minify,
        sourcemap: minify ? false : 'inline',
        write: false,
        logLevel: 'silent',
      });
      bundle.set(path, result.outputFiles[0]!.contents);
    }
  } catch (error) {
    throw new ConfabError('PLUGIN_INVALID', `plugin "web": the web client does not build: ${String(error)}`, { cause: error });
  }
  return bundle;
}

/** Resolves `confab:client-entries` to a module that imports each entry and exports them as a list. */
function clientEntriesModule(clientEntries: readonly URL[]): EsbuildPlugin {
  const paths = clientEntries.map((url) => fileURLToPath(url));
  return {
    name: 'confab:client-entries',
    setup(esbuild) {
      esbuild.onResolve({ filter: /^confab:client-entries$/ }, () => ({ path: CLIENT_ENTRIES_MODULE, namespace: 'confab' }));
      esbuild.onLoad({ filter: /.*/, namespace: 'confab' }, () => ({
        loader: 'js',
        resolveDir: '/',
        contents: paths.map((path, index) => `import entry${index} from ${JSON.stringify(path)};\n`).join('')
          + `export default [${paths.map((_, index) => `entry${index}`).join(', ')}];\n`,
      }));
    },
  };
}
