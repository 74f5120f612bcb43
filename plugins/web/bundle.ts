/**
 * Builds the web client with esbuild: the app (`web-client/main.ts`) and the two AudioWorklets, which the
 * browser loads as separate modules. Everything stays in memory; nothing is written to disk.
 */
import { build } from 'esbuild';
import { ConfabError } from '../../core/errors.js';

/** The built files, by URL path. */
export type Bundle = Map<string, Uint8Array>;

/** Entry points (relative to web-client/) → the URL path each is served at. */
const ENTRIES = {
  'main.ts': '/app.js',
  'worklets/capture.ts': '/worklets/capture.js',
  'worklets/playback.ts': '/worklets/playback.js',
} as const;

/** Bundles the web client in `webClientDir`; throws PLUGIN_INVALID with esbuild's message when it does not build. */
export async function bundleWebClient(webClientDir: string, minify: boolean): Promise<Bundle> {
  const bundle: Bundle = new Map();
  try {
    for (const [entry, path] of Object.entries(ENTRIES)) {
      const result = await build({
        entryPoints: [webClientDir + entry],
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
