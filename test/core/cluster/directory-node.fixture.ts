/**
 * A directory node in a process of its own, for tests that kill a node with SIGKILL
 * (test/core/cluster/redis-directory.test.ts). Environment: REDIS_URL, NODE_ID, KEY_PREFIX, SESSIONS (its
 * reported load) and ROOMS (comma-separated rooms it claims). Prints `ready` once registered and holding them;
 * exits when its stdin closes (its test ended), without leaving the directory, as a dead node would.
 */
import { createRedisDirectory } from '../../../core/cluster/redis-directory.js';

const env = (name: string) => process.env[name] ?? '';
const directory = createRedisDirectory({
  redis: env('REDIS_URL'),
  keyPrefix: env('KEY_PREFIX'),
  self: { id: env('NODE_ID'), linkHost: '127.0.0.1', linkPort: 1, machine: 'fixture', startedAt: Date.now() },
});
const rooms = env('ROOMS').split(',').filter((r) => r !== '');
await directory.start(() => ({ load: { sessions: Number(env('SESSIONS')), rooms: rooms.length, cpu: 0 }, rooms: rooms.map((name) => ({ name, participants: 1 })) }));
for (const room of rooms) {
  if (!(await directory.claim(room))) throw new Error(`could not claim ${room}`);
}
process.stdout.write('ready\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
