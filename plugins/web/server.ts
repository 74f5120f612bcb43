/**
 * The web plugin: bundles the browser client (web-client/) with esbuild when the server starts and serves
 * it at `/` on the server's own port, through the core's `http` hook.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { definePlugin } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import { readOptions } from '../../core/options.js';
import type { Plugin } from '../../core/types.js';

/** Options of the web plugin. */
export interface WebOptions {
  /** Minify the bundle. Default true. */
  minify?: boolean;
}

/** A file the plugin serves, ready in memory. */
interface Asset {
  type: string;
  body: Buffer;
}

const WEB_CLIENT_DIR = fileURLToPath(new URL('../../web-client/', import.meta.url));

/**
 * Creates the web plugin.
 *
 * @example
 *   defineConfig({ plugins: [chat(), web()] });   // then open http://127.0.0.1:5000/
 */
export function web(options: WebOptions = {}): Plugin {
  const { minify } = readOptions('web', options, { minify: { type: 'boolean', default: true } });
  return definePlugin({
    name: 'web',
    async setup(ctx) {
      const assets = new Map<string, Asset>([
        ['/', { type: 'text/html; charset=utf-8', body: readFileSync(WEB_CLIENT_DIR + 'index.html') }],
        ['/style.css', { type: 'text/css; charset=utf-8', body: readFileSync(WEB_CLIENT_DIR + 'style.css') }],
        ['/app.js', { type: 'text/javascript; charset=utf-8', body: await bundle(minify) }],
      ]);
      ctx.log.info('web client bundled', { bytes: assets.get('/app.js')!.body.length });
      ctx.hooks.http.tapPromise('web', async (request, response) => {
        if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
        const asset = assets.get(new URL(request.url ?? '/', 'http://localhost').pathname);
        if (!asset) return undefined;
        send(response, asset, request.method === 'HEAD');
        return true;
      });
    },
  });
}

/** Bundles web-client/main.ts for the browser. */
async function bundle(minify: boolean): Promise<Buffer> {
  try {
    const result = await build({
      entryPoints: [WEB_CLIENT_DIR + 'main.ts'],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify,
      write: false,
      logLevel: 'silent',
    });
    return Buffer.from(result.outputFiles[0].contents);
  } catch (error) {
    throw new ConfabError('PLUGIN_INVALID', `plugin "web": the web client does not build: ${String(error)}`, { cause: error });
  }
}

function send(response: ServerResponse, asset: Asset, headOnly: boolean): void {
  response.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
  response.end(headOnly ? undefined : asset.body);
}
