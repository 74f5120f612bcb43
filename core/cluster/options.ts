/**
 * Checks the `cluster` server option (ClusterOptions in core/cluster/types.ts) and fills its defaults.
 */
import { hostname } from 'node:os';
import { ConfabError } from '../errors.js';
import { checkOptions } from '../options.js';
import type { ClusterOptions } from './types.js';

/** The shortest cluster secret accepted. */
export const MIN_SECRET_LENGTH = 16;

/**
 * The cluster option checked, with its defaults; throws CONFIG_INVALID naming `server.cluster.<key>`. The
 * Redis URL must be `redis://` or `rediss://`; a secret shorter than 16 characters is refused.
 *
 * @example
 *   resolveClusterOptions({ redis: 'redis://127.0.0.1:6379', secret: 'a long shared secret' }).linkPort; // 0
 */
export function resolveClusterOptions(value: unknown): ClusterOptions & { linkPort: number; machine: string } {
  const fail = (message: string) => new ConfabError('CONFIG_INVALID', message);
  const read = checkOptions({
    redis: { type: 'string', nonEmpty: true },
    secret: { type: 'string', nonEmpty: true },
    advertise: { type: 'string', nonEmpty: true },
    linkPort: { type: 'integer', min: 0, max: 65535, default: 0 },
    machine: { type: 'string', nonEmpty: true, default: hostname() },
    worker: { type: 'integer', min: 0, max: 1023 },
  }, value, { fail, subject: (key) => `server.cluster.${key}`, unknown: (key) => `server.cluster.${key}`, whole: 'server.cluster' });
  if (read.redis === undefined || !/^rediss?:\/\//.test(read.redis)) {
    throw fail('server.cluster.redis must be a Redis URL (redis://host:port), from --redis-url or CONFAB_REDIS_URL');
  }
  if (read.secret === undefined || read.secret.length < MIN_SECRET_LENGTH) {
    throw fail(`server.cluster.secret must be at least ${MIN_SECRET_LENGTH} characters, the same on every node (--cluster-secret or CONFAB_CLUSTER_SECRET)`);
  }
  const { advertise, worker, ...rest } = read;
  return { ...rest, redis: read.redis, secret: read.secret, ...(advertise !== undefined ? { advertise } : {}), ...(worker !== undefined ? { worker } : {}) };
}
