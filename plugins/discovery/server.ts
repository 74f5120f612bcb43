/**
 * The discovery plugin, server half: once the server listens, a UDP beacon (name, version, port, whether
 * auth is needed, number of rooms) every few seconds to the broadcast addresses of the interfaces the server
 * is bound to — only loopback for the default host 127.0.0.1. The beacon socket only sends: whatever arrives
 * on it is never read or answered. On close, one last beacon says the server is closing, then nothing.
 */
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { definePlugin } from '../../core/config.js';
import { TOKENS } from '../auth/service.js';
import { readOptions } from '../../core/options.js';
import { VERSION } from '../../core/version.js';
import type { Plugin } from '../../core/index.js';
import { beaconTargets } from './broadcast.js';
import { DEFAULT_BEACON_PORT, DEFAULT_INTERVAL_MS, MAX_NAME_LENGTH, encodeBeacon, type Beacon } from './protocol.js';

/** Options of the discovery plugin. */
export interface DiscoveryOptions {
  /** UDP port the beacons go to; clients listen on it. Default 5001. */
  port?: number;
  /** Time between beacons, in ms. Default 5000. */
  intervalMs?: number;
}

/**
 * Creates the discovery plugin.
 *
 * @example
 *   defineConfig({ server: { host: '0.0.0.0', name: 'lab-pc' }, plugins: [chat(), discovery()] });
 */
export function discovery(options: DiscoveryOptions = {}): Plugin {
  const { port, intervalMs } = readOptions('discovery', options, {
    port: { type: 'integer', min: 1, max: 65535, default: DEFAULT_BEACON_PORT },
    intervalMs: { type: 'integer', min: 20, max: 3_600_000, default: DEFAULT_INTERVAL_MS },
  });

  return definePlugin({
    name: 'discovery',
    setup(ctx) {
      let socket: Socket | undefined;
      let timer: ReturnType<typeof setInterval> | undefined;
      let serverPort = 0;
      const failedTargets = new Set<string>();
      const name = [...ctx.options.name].slice(0, MAX_NAME_LENGTH).join('') || 'confab';

      // In cluster mode every node announces the whole cluster's rooms (any node takes any room).
      const roomCount = async () => {
        const here = [...ctx.rooms()].length;
        return ctx.cluster ? ctx.cluster.rooms().then((rooms) => rooms.length, () => here) : here;
      };

      const send = async (closing: boolean): Promise<void> => {
        const rooms = await roomCount();
        const open = socket;
        if (!open) return;
        // A server that runs auth (it provides the token service) needs a token to join.
        const auth = ctx.optionalService(TOKENS) !== undefined;
        const beacon: Beacon = { name, version: VERSION, port: serverPort, auth, rooms };
        if (closing) beacon.closing = true;
        const datagram = encodeBeacon(beacon);
        // Interfaces come and go (a laptop joins a network): look again at every beacon.
        const { addresses } = beaconTargets(ctx.options.host, networkInterfaces());
        const sent = addresses.map((address) => new Promise<void>((done) => {
          open.send(datagram, port, address, (error) => {
            // Logged once per address, not every interval.
            if (error && !failedTargets.has(address)) {
              failedTargets.add(address);
              ctx.log.warn('cannot send a beacon', { address, port, error: error.message });
            }
            done();
          });
        }));
        return Promise.all(sent).then(() => undefined);
      };

      ctx.hooks.listen.tapPromise('discovery', async (info) => {
        const { bindAddress, addresses } = beaconTargets(ctx.options.host, networkInterfaces());
        if (addresses.length === 0) {
          ctx.log.warn('no IPv4 broadcast address for this host: not announcing', { host: ctx.options.host });
          return;
        }
        serverPort = info.port;
        const opened = createSocket('udp4');
        await new Promise<void>((resolve, reject) => {
          opened.once('error', reject);
          opened.bind(0, bindAddress, () => {
            opened.off('error', reject);
            resolve();
          });
        });
        opened.setBroadcast(true);
        // No 'message' handler: what arrives on the beacon socket is dropped and never answered.
        opened.on('error', (error) => ctx.log.warn('beacon socket error', { error: error.message }));
        socket = opened;
        ctx.log.info('announcing', { to: addresses, port, intervalMs, auth: ctx.optionalService(TOKENS) !== undefined });
        await send(false);
        timer = setInterval(() => void send(false), intervalMs);
      });

      ctx.hooks.close.tapPromise('discovery', async () => {
        clearInterval(timer);
        timer = undefined;
        if (!socket) return;
        await send(true);
        const closing = socket;
        socket = undefined;
        await new Promise<void>((resolve) => closing.close(() => resolve()));
      });
    },
  });
}
