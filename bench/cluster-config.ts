/**
 * The config `confab serve` runs with in the cluster bench (`bench/cluster.ts`): the audio mixer and the
 * video relay at their defaults, log level `warn`, and the connection limits raised, because every bench
 * client connects from 127.0.0.1 (the per-address limit of 256 is meant for one machine on a LAN).
 *
 *   confab serve --config bench/cluster-config.ts --workers 2 --port 5100 --redis-url redis://127.0.0.1:6379
 */
import { defineConfig } from '../core/config.js';
import { audioMix } from '../plugins/audio-mix/server.js';
import { videoRelay } from '../plugins/video-relay/server.js';

export default defineConfig({
  server: { logLevel: 'warn', maxConnections: 8192, maxConnectionsPerAddress: 8192 },
  plugins: [videoRelay(), audioMix()],
});
