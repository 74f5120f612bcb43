/**
 * HTTP on the server's port: plugins answer first (the `http` hook: the web client, files…), then the
 * core's own routes:
 *
 * - `/health/live` (liveness): 200 while the process answers at all;
 * - `/health/ready` (readiness): 200 when the server can take sessions, else 503 with what is missing;
 * - `/health`: the server's summary (name, version, sessions…), 200 like liveness, with `ready` in it;
 *   `store` when a plugin uses the store: its dialect, its location (password hidden) and whether it
 *   answered a trivial query within STORE_PING_TIMEOUT_MS; on a cluster node, `cluster`: the node, the
 *   directory's state and every live node with its load;
 * - `/metrics`: Prometheus text format (core/metrics.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterNode } from './cluster/node.js';
import type { ConfabServer } from './server.js';
import type { Store } from './store.js';
import { VERSION } from './version.js';

/** How long `/health` waits for the store's answer before it reports it unreachable. */
const STORE_PING_TIMEOUT_MS = 1000;

/** Answers one HTTP request. */
export async function handleHttpRequest(server: ConfabServer, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (await server.hooks.http.promise(request, response)) return;
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  switch (path) {
    case '/health/live':
      return send(response, 200, 'application/json', JSON.stringify({ status: 'ok' }));
    case '/health/ready': {
      const readiness = server.readiness;
      return send(response, readiness.ready ? 200 : 503, 'application/json', JSON.stringify({ status: readiness.ready ? 'ready' : 'not ready', ...readiness }));
    }
    case '/health':
      return send(response, 200, 'application/json', JSON.stringify({
        status: 'ok',
        ready: server.readiness.ready,
        name: server.options.name,
        version: VERSION,
        uptimeMs: Date.now() - server.startedAt,
        sessions: server.sessions.size,
        rooms: server.rooms.size,
        plugins: server.plugins.map((plugin) => plugin.name),
        ...(server.readiness.store !== 'unused' ? { store: await storeView(server.store) } : {}),
        ...(server.cluster ? { cluster: clusterView(server.cluster) } : {}),
      }));
    case '/metrics':
      return send(response, 200, server.metrics.contentType, await server.metrics.render());
    default:
      send(response, 404, 'text/plain', `no route for ${path}: this Confab server answers /health, /health/live, /health/ready, /metrics and WebSocket at /ws\n`);
  }
}

/** `/health`'s `store`: where it is, and whether it answers now (with PostgreSQL, it may not). */
async function storeView(store: Store) {
  const pingMs = await store.ping(STORE_PING_TIMEOUT_MS);
  return { dialect: store.dialect, location: store.location, reachable: pingMs !== undefined, ...(pingMs !== undefined ? { pingMs: Math.round(pingMs * 100) / 100 } : {}) };
}

/** `/health`'s `cluster`: this node and the cluster as its directory saw it at the last renewal. */
function clusterView(node: ClusterNode) {
  const { state, nodes, renewedAt } = node.directory.status();
  return {
    node: node.self,
    directory: state,
    ...(renewedAt !== undefined ? { renewedAt } : {}),
    nodes: nodes.map(({ id, linkHost, linkPort, machine, worker, load }) => ({ id, linkHost, linkPort, machine, ...(worker !== undefined ? { worker } : {}), load })),
  };
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}
