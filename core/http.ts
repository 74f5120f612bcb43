/**
 * HTTP on the server's port: plugins answer first (the `http` hook: the web client, files…), then the
 * core's own routes: `/health` (JSON) and `/metrics` (Prometheus text).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfabServer } from './server.js';
import { VERSION } from './version.js';

/** Answers one HTTP request. */
export async function handleHttpRequest(server: ConfabServer, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (await server.hooks.http.promise(request, response)) return;
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  if (path === '/health') {
    send(response, 200, 'application/json', JSON.stringify({
      status: 'ok',
      name: server.options.name,
      version: VERSION,
      uptimeMs: Date.now() - server.startedAt,
      sessions: server.sessions.size,
      rooms: server.rooms.size,
      plugins: server.plugins.map((plugin) => plugin.name),
    }));
    return;
  }
  if (path === '/metrics') {
    let queuedBytes = 0;
    for (const session of server.sessions.values()) queuedBytes += session.queuedBytes;
    send(response, 200, 'text/plain; version=0.0.4', server.metrics.render({
      confab_sessions: server.sessions.size,
      confab_rooms: server.rooms.size,
      confab_send_queue_bytes: queuedBytes,
    }));
    return;
  }
  send(response, 404, 'text/plain', `no route for ${path}: this Confab server answers /health, /metrics and WebSocket at /ws\n`);
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}
