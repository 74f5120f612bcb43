/**
 * The bare baseline for the chat fan-out bench: a WebSocket server that sends every message it receives
 * to every other client, and does nothing else. Port from argv or BASELINE_PORT (0 picks a free one); it
 * prints `{"port":…}` on stdout once it listens and exits on SIGTERM/SIGINT (or when its parent goes, with
 * --exit-with-parent).
 *
 *   node --import tsx bench/baseline-ws-broadcast.ts 5050
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

const port = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? process.env.BASELINE_PORT ?? 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });

wss.on('connection', (ws) => {
  ws.on('error', () => ws.terminate());
  ws.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    }
  });
});
wss.on('listening', () => console.log(JSON.stringify({ port: (wss.address() as AddressInfo).port, pid: process.pid })));

const stop = () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
};
process.on('SIGTERM', stop).on('SIGINT', stop);
if (process.argv.includes('--exit-with-parent')) process.stdin.on('end', stop).resume();
