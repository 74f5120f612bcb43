/**
 * The web plugin: bundles the browser client (web-client/) with esbuild when the server starts and serves
 * it at `/` on the server's own port, through the core's `http` hook, with two small JSON routes for the
 * page: `/api/config` (camera frame size, rate, quality) and `/api/rooms` (rooms in use, coming meetings).
 *
 * When the server has TLS, a plain-HTTP visit to the page from another machine is redirected to https:
 * browsers give camera and microphone only to secure pages (plain HTTP on loopback is one, and stays).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { isLoopbackHost } from '../../core/config.js';
import { definePlugin } from '../../core/config.js';
import { readOptions } from '../../core/options.js';
import type { Plugin } from '../../core/types.js';
import { bundleWebClient } from './bundle.js';
import { readDirectory } from './directory.js';

/** Options of the web plugin. */
export interface WebOptions {
  /** Minify the bundle. Default true. */
  minify?: boolean;
  /** Width of the camera frames browsers send, in pixels. Default 640. */
  videoWidth?: number;
  /** Height of the camera frames browsers send, in pixels. Default 480. */
  videoHeight?: number;
  /** Camera frames per second browsers send. Default 15. */
  videoFps?: number;
  /** JPEG quality of camera frames, 0.1–1. Default 0.7. */
  jpegQuality?: number;
}

/** A file the plugin serves, ready in memory (with its gzip form for clients that accept it). */
interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

const WEB_CLIENT_DIR = fileURLToPath(new URL('../../web-client/', import.meta.url));
const JS = 'text/javascript; charset=utf-8';

/**
 * Creates the web plugin.
 *
 * @example
 *   defineConfig({ plugins: [chat(), web({ videoFps: 10 })] });   // then open http://127.0.0.1:5000/
 */
export function web(options: WebOptions = {}): Plugin {
  const settings = readOptions('web', options, {
    minify: { type: 'boolean', default: true },
    videoWidth: { type: 'integer', min: 16, max: 3840, default: 640 },
    videoHeight: { type: 'integer', min: 16, max: 2160, default: 480 },
    videoFps: { type: 'number', min: 1, max: 60, default: 15 },
    jpegQuality: { type: 'number', min: 0.1, max: 1, default: 0.7 },
  });
  const config = { video: { width: settings.videoWidth, height: settings.videoHeight, fps: settings.videoFps, quality: settings.jpegQuality } };
  return definePlugin({
    name: 'web',
    async setup(ctx) {
      const bundle = await bundleWebClient(WEB_CLIENT_DIR, settings.minify);
      const assets = new Map<string, Asset>([
        ['/', asset('text/html; charset=utf-8', readFileSync(WEB_CLIENT_DIR + 'index.html'))],
        ['/style.css', asset('text/css; charset=utf-8', readFileSync(WEB_CLIENT_DIR + 'style.css'))],
        ...[...bundle].map(([path, bytes]) => [path, asset(JS, Buffer.from(bytes))] as const),
      ]);
      const app = assets.get('/app.js')!;
      ctx.log.info(`web client bundled: app.js ${kib(app.body.length)} (${kib(app.gzip.length)} gzipped), `
        + `worklets ${kib(assets.get('/worklets/capture.js')!.body.length + assets.get('/worklets/playback.js')!.body.length)}`);
      const tlsOn = ctx.options.tls !== 'off';

      ctx.hooks.http.tapPromise('web', async (request, response) => {
        if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
        const path = new URL(request.url ?? '/', 'http://localhost').pathname;
        if (path === '/api/config') return sendJson(response, config);
        if (path === '/api/rooms') return sendJson(response, readDirectory(ctx));
        const found = assets.get(path);
        if (!found) return undefined;
        if (path === '/' && tlsOn && needsHttps(request)) return redirectToHttps(request, response);
        send(request, response, found);
        return true;
      });
    },
  });
}

function asset(type: string, body: Buffer): Asset {
  return { type, body, gzip: gzipSync(body) };
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A plain-HTTP request from another machine: its page would not be a secure context. */
function needsHttps(request: IncomingMessage): boolean {
  const encrypted = (request.socket as TLSSocket).encrypted === true;
  return !encrypted && !isLoopbackHost(request.socket.remoteAddress ?? '');
}

function redirectToHttps(request: IncomingMessage, response: ServerResponse): true {
  const host = request.headers.host ?? 'localhost';
  response.writeHead(307, { location: `https://${host}${request.url ?? '/'}`, 'content-type': 'text/plain' });
  response.end('This page needs https:// for camera and microphone access.\n');
  return true;
}

function sendJson(response: ServerResponse, value: unknown): true {
  response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(value));
  return true;
}

function send(request: IncomingMessage, response: ServerResponse, found: Asset): void {
  const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
  const body = gzip ? found.gzip : found.body;
  response.writeHead(200, {
    'content-type': found.type,
    'content-length': body.length,
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
