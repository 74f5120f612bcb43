/**
 * The web plugin: bundles the browser client (web-client/) with esbuild when the server starts, with the
 * client entries of the server's plugins that name one (their web panels and tile overlays), and serves it
 * at `/` on the server's own port, through the core's `http` hook, with three small JSON routes for the
 * page: `/api/config` (camera frame size, rate, quality), `/api/media` (VP8 and Opus bitrates, the screen
 * share's size and rate: media-config.ts) and `/api/rooms` (rooms in use, coming meetings).
 *
 * When the server has TLS, a plain-HTTP visit to the page from another machine is redirected to https:
 * browsers give camera and microphone only to secure pages (plain HTTP on loopback is one, and stays).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { definePlugin, isLoopbackHost } from '../../core/config.js';
import { ConfabError } from '../../core/errors.js';
import { readOptions } from '../../core/options.js';
import type { Plugin } from '../../core/types.js';
import { bundleWebClient } from './bundle.js';
import { readDirectory } from './directory.js';
import { DEFAULT_MEDIA_CONFIG, type MediaConfig } from './media-config.js';

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
  /** Camera VP8 bitrate, bits per second: where the encoder starts and its ceiling. Default 500 000. */
  videoBitrate?: number;
  /** The lowest camera VP8 bitrate that receivers' feedback may bring the encoder to. Default 150 000. */
  videoMinBitrate?: number;
  /** Screen share VP8 bitrate (ceiling), bits per second. Default 1 500 000. */
  screenBitrate?: number;
  /** The lowest screen share VP8 bitrate. Default 300 000. */
  screenMinBitrate?: number;
  /** Largest screen share picture; larger screens are scaled down. Default 1920 × 1080. */
  screenMaxWidth?: number;
  screenMaxHeight?: number;
  /** Screen share frames per second. Default 5. */
  screenFps?: number;
  /** Microphone Opus bitrate, bits per second. Default 32 000. */
  audioBitrate?: number;
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
 *   defineConfig({ plugins: [chat(), web({ videoFps: 10, videoBitrate: 400_000 })] });   // then open http://127.0.0.1:5000/
 */
export function web(options: WebOptions = {}): Plugin {
  const settings = readOptions('web', options, {
    minify: { type: 'boolean', default: true },
    videoWidth: { type: 'integer', min: 16, max: 3840, default: 640 },
    videoHeight: { type: 'integer', min: 16, max: 2160, default: 480 },
    videoFps: { type: 'number', min: 1, max: 60, default: 15 },
    jpegQuality: { type: 'number', min: 0.1, max: 1, default: 0.7 },
    videoBitrate: { type: 'integer', min: 50_000, max: 20_000_000, default: DEFAULT_MEDIA_CONFIG.video.bitrate },
    videoMinBitrate: { type: 'integer', min: 20_000, max: 20_000_000, default: DEFAULT_MEDIA_CONFIG.video.minBitrate },
    screenBitrate: { type: 'integer', min: 50_000, max: 50_000_000, default: DEFAULT_MEDIA_CONFIG.screen.bitrate },
    screenMinBitrate: { type: 'integer', min: 20_000, max: 50_000_000, default: DEFAULT_MEDIA_CONFIG.screen.minBitrate },
    screenMaxWidth: { type: 'integer', min: 320, max: 3840, default: DEFAULT_MEDIA_CONFIG.screen.maxWidth },
    screenMaxHeight: { type: 'integer', min: 240, max: 2160, default: DEFAULT_MEDIA_CONFIG.screen.maxHeight },
    screenFps: { type: 'number', min: 1, max: 30, default: DEFAULT_MEDIA_CONFIG.screen.fps },
    audioBitrate: { type: 'integer', min: 6_000, max: 510_000, default: DEFAULT_MEDIA_CONFIG.audio.bitrate },
  });
  for (const [low, high] of [['videoMinBitrate', 'videoBitrate'], ['screenMinBitrate', 'screenBitrate']] as const) {
    if (settings[low] > settings[high]) {
      throw new ConfabError('CONFIG_INVALID', `plugin "web": option "${low}" (${settings[low]}) must not exceed "${high}" (${settings[high]})`);
    }
  }
  const config = { video: { width: settings.videoWidth, height: settings.videoHeight, fps: settings.videoFps, quality: settings.jpegQuality } };
  const media: MediaConfig = {
    video: { bitrate: settings.videoBitrate, minBitrate: settings.videoMinBitrate },
    screen: {
      maxWidth: settings.screenMaxWidth,
      maxHeight: settings.screenMaxHeight,
      fps: settings.screenFps,
      bitrate: settings.screenBitrate,
      minBitrate: settings.screenMinBitrate,
      quality: DEFAULT_MEDIA_CONFIG.screen.quality,
    },
    audio: { bitrate: settings.audioBitrate },
  };
  return definePlugin({
    name: 'web',
    async setup(ctx) {
      const clientEntries = ctx.plugins.flatMap((name) => ctx.plugin(name)?.client ?? []);
      const bundle = await bundleWebClient(WEB_CLIENT_DIR, settings.minify, clientEntries);
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
        if (path === '/api/media') return sendJson(response, media);
        if (path === '/api/rooms') return sendJson(response, await readDirectory(ctx));
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
