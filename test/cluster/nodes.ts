/**
 * What the cluster tests share: a private Redis for the test file, a data directory per test that its nodes
 * share (one store and one auth secret, as the workers of one machine share theirs and the machines of a
 * cluster their PostgreSQL), and `startNode(host, plugins)`, a node of that cluster on a loopback address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'uvu';
import { startTestServer, type TestServer } from '../../core/testing.js';
import type { Plugin } from '../../core/types.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

/** The cluster secret of the test nodes. */
export const CLUSTER_SECRET = 'the cluster secret for tests';

/** The test file's cluster: its Redis, the current test's shared data directory, and a way to start nodes. */
export interface TestCluster {
  readonly redis: TestRedis;
  /** The data directory the nodes of the current test share. */
  readonly dataDir: string;
  /** Starts a node on `host` (127.0.0.1, 127.0.0.2…) with `plugins`; its `close()` leaves the shared directory. */
  startNode(host: string, plugins: Plugin[]): Promise<TestServer>;
}

/** Registers the hooks of `suite` that start and stop the cluster's Redis and the per-test directory. */
export function useTestCluster(suite: Test): TestCluster {
  let redis: TestRedis | undefined;
  let dataDir = '';
  suite.before(async () => {
    redis = await startRedis();
  });
  suite.after(async () => {
    await redis?.stop();
  });
  suite.before.each(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'confab-cluster-'));
  });
  suite.after.each(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    get redis() {
      if (!redis) throw new Error('the test cluster\'s Redis starts in the suite\'s before hook');
      return redis;
    },
    get dataDir() {
      return dataDir;
    },
    async startNode(host, plugins) {
      const node = await startTestServer({ plugins, server: { host, dataDir, cluster: { redis: this.redis.url, secret: CLUSTER_SECRET } } });
      return { ...node, close: () => node.close({ keepData: true }) };
    },
  };
}
