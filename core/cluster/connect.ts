/**
 * The cluster's engines for a node: the room directory and the bus, both on the Redis of the `cluster`
 * option (core/cluster/redis-directory.ts, core/cluster/redis-bus.ts).
 */
import type { ClusterConnector } from './node.js';
import { createRedisBus } from './redis-bus.js';
import { createRedisDirectory } from './redis-directory.js';

/** Opens the node's directory and bus on Redis. */
export const connectRedisCluster: ClusterConnector = (self, options) => ({
  directory: createRedisDirectory({ redis: options.redis, self }),
  bus: createRedisBus({ redis: options.redis, node: self.id }),
});
