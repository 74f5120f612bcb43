/**
 * The cluster's directory on Redis (ClusterDirectory in core/cluster/types.ts; docs/cluster.md, "Redis: the
 * directory and the bus").
 *
 * Keys, under the prefix (default `confab:`):
 *
 * - `node:<id>`: the node's NodeInfo with its load, as JSON, expiring `nodeTtlMs` (3 s) after its last renewal;
 * - `node-rooms:<id>`: the rooms it reported at that renewal (name and participants), with the same expiry;
 * - `nodes`: a set of node ids, pruned of those whose `node:<id>` expired whenever it is read;
 * - `room:<name>`: the id of the node holding the room's lease, expiring `leaseTtlMs` (4 s) after its last
 *   renewal, so a dead node's rooms free themselves within 5 s.
 *
 * Every renewal (every `renewMs`, and at once when Redis comes back) is one Lua script, so it is atomic: it
 * writes the node's entry, renews each lease the node holds, takes back any lease Redis lost (a restart without
 * persistence), and reads the live nodes for `status()`. A lease that another live node took meanwhile is left
 * to it and logged; this node keeps serving its room.
 */
import { ConfabError } from '../errors.js';
import type { Logger } from '../logger.js';
import { clusterUnavailable, connectRedis, defineScript } from './redis.js';
import type { ClusterDirectory, DirectoryStatus, NodeInfo, NodeLoad, NodeReport, RoomListing } from './types.js';

/** Options of `createRedisDirectory`. */
export interface RedisDirectoryOptions {
  /** The Redis URL (`redis://[:password@]host:port[/db]`); only its redacted form is ever logged. */
  redis: string;
  /** This node, as it registers (its load comes from the report at each renewal). */
  self: Omit<NodeInfo, 'load'>;
  /** What every key starts with, so that several clusters (or tests) can share one Redis. Default `confab:`. */
  keyPrefix?: string;
  /** How often the node renews its entry and leases. Default 1000 ms. */
  renewMs?: number;
  /** How long a node's entry lives after its last renewal. Default 3000 ms. */
  nodeTtlMs?: number;
  /** How long a room lease lives after its last renewal (at most 4 s, so a dead node's rooms free within 5 s). Default 4000 ms. */
  leaseTtlMs?: number;
  /** Where the directory logs Redis losses, re-registrations and lease conflicts. Default: nowhere. */
  log?: Logger;
}

/** What the renewal reports for one lease: renewed, taken back (Redis had lost it), or held by this other node. */
const RENEWED = 1;
const TAKEN = 2;

/**
 * The renewal. KEYS: node entry, node rooms, node set, then the room leases this node holds. ARGV: node id,
 * entry JSON, rooms JSON, node TTL, lease TTL, node key prefix. Returns {entry existed (0/1), per lease
 * RENEWED | TAKEN | holder id, live node entries}.
 */
const RENEW = defineScript(`
local id = ARGV[1]
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('SADD', KEYS[3], id)
local leases = {}
for i = 4, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder == id then
    redis.call('PEXPIRE', KEYS[i], ARGV[5])
    leases[#leases + 1] = ${RENEWED}
  elseif (not holder) or redis.call('EXISTS', ARGV[6] .. holder) == 0 then
    redis.call('SET', KEYS[i], id, 'PX', ARGV[5])
    leases[#leases + 1] = ${TAKEN}
  else
    leases[#leases + 1] = holder
  end
end
local nodes = {}
for _, other in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local entry = redis.call('GET', ARGV[6] .. other)
  if entry then nodes[#nodes + 1] = entry else redis.call('SREM', KEYS[3], other) end
end
return { existed, leases, nodes }
`);

/**
 * Takes a room's lease for a node unless another live node holds it. KEYS: the lease. ARGV: candidate id,
 * lease TTL, node key prefix. Returns the holder afterwards.
 */
const ACQUIRE = defineScript(`
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return holder
end
if holder and redis.call('EXISTS', ARGV[3] .. holder) == 1 then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`);

/** The entry of a room's lease holder if that node is alive. KEYS: the lease. ARGV: node key prefix. */
const LOCATE = defineScript(`
local holder = redis.call('GET', KEYS[1])
if not holder then return false end
return redis.call('GET', ARGV[1] .. holder)
`);

/** Deletes a lease if this node holds it. KEYS: the lease. ARGV: node id. */
const RELEASE = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Removes a node: KEYS: entry, rooms, node set, then its leases. ARGV: node id. */
const LEAVE = defineScript(`
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
for i = 4, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1
`);

/**
 * The live nodes' entries, pruning the node set. KEYS: node set. ARGV: node key prefix, rooms key prefix or ''.
 * Returns {entry, rooms JSON or false} per node (rooms only when asked).
 */
const LIVE = defineScript(`
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = redis.call('GET', ARGV[1] .. id)
  if entry then
    local rooms = false
    if ARGV[2] ~= '' then rooms = redis.call('GET', ARGV[2] .. id) end
    out[#out + 1] = { entry, rooms }
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
`);

/**
 * The node to place a new room on: the fewest sessions, then the fewest rooms, then the least CPU (then the
 * smallest id, so that every node picks the same one from the same view). Undefined for no nodes.
 *
 * @example
 *   pickLeastLoaded(await directory.nodes())?.id;
 */
export function pickLeastLoaded(nodes: readonly NodeInfo[]): NodeInfo | undefined {
  let best: NodeInfo | undefined;
  for (const node of nodes) {
    if (best === undefined || compareLoad(node, best) < 0) best = node;
  }
  return best;
}

function compareLoad(a: NodeInfo, b: NodeInfo): number {
  return a.load.sessions - b.load.sessions || a.load.rooms - b.load.rooms || a.load.cpu - b.load.cpu || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The cluster directory on Redis: registers this node and renews its entry and leases every `renewMs`.
 * When `start` fails (Redis unreachable at start) the directory is closed: make a new one to try again.
 * `release` resolves even while Redis is unreachable: the lease is no longer renewed, so it expires by itself
 * within `leaseTtlMs`.
 *
 * @example
 *   const directory = createRedisDirectory({
 *     redis: process.env.CONFAB_REDIS_URL!,
 *     self: { id: 'lab-host-w0-3f9a', linkHost: '10.0.0.5', linkPort: 7001, machine: 'lab-host', startedAt: Date.now() },
 *   });
 *   await directory.start(() => ({ load: { sessions: 12, rooms: 2, cpu: 0.3 }, rooms: [{ name: 'lab1', participants: 7 }] }));
 *   const node = await directory.locate('lab1'); // where lab1 lives, or the least loaded node, which now holds its lease
 *   if (node.id === directory.self.id) await directory.claim('lab1');
 *   await directory.close();
 */
export function createRedisDirectory(options: RedisDirectoryOptions): ClusterDirectory {
  const self = options.self;
  const prefix = options.keyPrefix ?? 'confab:';
  const renewMs = options.renewMs ?? 1000;
  const nodeTtlMs = options.nodeTtlMs ?? 3000;
  const leaseTtlMs = options.leaseTtlMs ?? 4000;
  const log = options.log;
  if (!(renewMs > 0 && nodeTtlMs > renewMs && leaseTtlMs >= nodeTtlMs)) {
    throw new ConfabError('CONFIG_INVALID', `the directory needs 0 < renewMs < nodeTtlMs ≤ leaseTtlMs (got ${renewMs}, ${nodeTtlMs}, ${leaseTtlMs})`);
  }
  const nodePrefix = `${prefix}node:`;
  const roomsPrefix = `${prefix}node-rooms:`;
  const nodesKey = `${prefix}nodes`;
  const nodeKey = `${nodePrefix}${self.id}`;
  const roomsKey = `${roomsPrefix}${self.id}`;
  const leaseKey = (room: string) => `${prefix}room:${room}`;

  const conn = connectRedis(options.redis, { name: 'confab-directory', ...(log ? { log } : {}) });
  /** The rooms whose leases this node holds (claimed and not released): renewed with every renewal. */
  const held = new Set<string>();
  /** Held rooms whose lease another live node has now (logged once per conflict). */
  const conflicts = new Set<string>();
  let report: (() => NodeReport) | undefined;
  let started: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let renewing: Promise<boolean> | undefined;
  let lastOk = false;
  let renewedAt: number | undefined;
  let liveNodes: NodeInfo[] = [];

  /** One renewal; true when it reached Redis. Concurrent calls share the one under way. */
  const renew = (): Promise<boolean> => {
    renewing ??= renewOnce().finally(() => (renewing = undefined));
    return renewing;
  };

  const renewOnce = async (): Promise<boolean> => {
    if (!report) return false;
    let current: NodeReport;
    try {
      current = report();
    } catch (error) {
      log?.error('the node report for the directory failed; the entry is not renewed this time', { error: String(error) });
      return false;
    }
    const rooms = [...held];
    const entry: NodeInfo = { ...self, load: loadOf(current.load) };
    let reply: unknown;
    try {
      reply = await conn.run(`renewing node ${self.id}`, (client) =>
        RENEW.run(client, [nodeKey, roomsKey, nodesKey, ...rooms.map(leaseKey)], [
          self.id, JSON.stringify(entry), JSON.stringify(current.rooms.map((r) => ({ name: r.name, participants: r.participants }))),
          nodeTtlMs, leaseTtlMs, nodePrefix,
        ]));
    } catch (error) {
      lastOk = false;
      log?.debug('directory renewal failed', { error: (error as Error).message });
      return false;
    }
    const [existed, leases, entries] = reply as [number, Array<number | string>, string[]];
    if (existed === 0 && renewedAt !== undefined) {
      log?.info('registered again in the directory (Redis had lost this node\'s entry)', { node: self.id, leases: rooms.length });
    }
    rooms.forEach((room, i) => {
      const outcome = leases[i];
      if (outcome === RENEWED || outcome === TAKEN) {
        if (conflicts.delete(room)) log?.info('lease on a hosted room is this node\'s again', { room });
        else if (outcome === TAKEN && renewedAt !== undefined) log?.info('re-asserted the lease on a hosted room', { room });
      } else if (!conflicts.has(room)) {
        conflicts.add(room);
        log?.warn('another node holds the lease on a room this node hosts; still serving it here', { room, holder: String(outcome) });
      }
    });
    liveNodes = entries.map(parseNode).filter((n): n is NodeInfo => n !== undefined);
    lastOk = true;
    renewedAt = Date.now();
    return true;
  };

  const schedule = () => {
    if (closing) return;
    timer = setTimeout(() => {
      timer = undefined;
      void renew().finally(schedule);
    }, renewMs);
    timer.unref();
  };

  // Back from an outage: register and re-assert the leases now rather than at the next tick.
  conn.client.on('ready', () => {
    if (report && !closing && renewedAt !== undefined) void renew();
  });

  const liveEntries = async (what: string, withRooms: boolean): Promise<Array<[NodeInfo, unknown]>> => {
    const reply = (await conn.run(what, (client) => LIVE.run(client, [nodesKey], [nodePrefix, withRooms ? roomsPrefix : '']))) as Array<[unknown, unknown]>;
    const out: Array<[NodeInfo, unknown]> = [];
    for (const [entry, rooms] of reply) {
      const node = parseNode(entry);
      if (node) out.push([node, typeof rooms === 'string' ? safeJson(rooms) : []]);
    }
    return out;
  };

  const directory: ClusterDirectory = {
    self,

    start(reportFn) {
      started ??= (async () => {
        report = reportFn;
        try {
          await conn.start();
          if (!(await renew())) throw clusterUnavailable(`registering node ${self.id}`, conn.url);
        } catch (error) {
          await conn.close();
          throw error;
        }
        schedule();
      })();
      return started;
    },

    close() {
      closing ??= (async () => {
        if (timer) clearTimeout(timer);
        await renewing;
        if (conn.ready && renewedAt !== undefined) {
          const rooms = [...held];
          await conn.run(`removing node ${self.id}`, (client) => LEAVE.run(client, [nodeKey, roomsKey, nodesKey, ...rooms.map(leaseKey)], [self.id]))
            .catch((error: Error) => log?.warn('could not remove this node from the directory; its entry expires by itself', { error: error.message }));
        }
        held.clear();
        await conn.close();
      })();
      return closing;
    },

    async locate(room) {
      for (let attempt = 0; attempt < 3; attempt++) {
        const found = await conn.run(`locating room ${room}`, (client) => LOCATE.run(client, [leaseKey(room)], [nodePrefix]));
        const holder = typeof found === 'string' ? parseNode(found) : undefined;
        if (holder) return holder;
        const nodes = (await liveEntries(`placing room ${room}`, false)).map(([node]) => node);
        const chosen = pickLeastLoaded(nodes);
        if (!chosen) throw new ConfabError('CLUSTER_UNAVAILABLE', `placing room ${room}: no live node is registered in the directory yet; retry in a few seconds`);
        const winner = await conn.run(`placing room ${room}`, (client) => ACQUIRE.run(client, [leaseKey(room)], [chosen.id, leaseTtlMs, nodePrefix]));
        const placed = nodes.find((n) => n.id === winner);
        if (placed) return placed;
        // Another node placed it on a node that registered after our read: look again.
      }
      throw new ConfabError('CLUSTER_UNAVAILABLE', `placing room ${room}: the directory kept changing; retry in a few seconds`);
    },

    async claim(room) {
      let holder: unknown;
      try {
        holder = await conn.run(`claiming room ${room}`, (client) => ACQUIRE.run(client, [leaseKey(room)], [self.id, leaseTtlMs, nodePrefix]));
      } catch (error) {
        // Redis is away: a room this node hosts stays this node's (its lease is re-asserted when Redis is back).
        if (held.has(room)) return true;
        throw error;
      }
      if (holder !== self.id) return false;
      held.add(room);
      conflicts.delete(room);
      return true;
    },

    async release(room) {
      // No longer renewed from now on: even if Redis cannot be told, the lease expires within leaseTtlMs.
      const wasHeld = held.delete(room);
      conflicts.delete(room);
      if (!wasHeld && !conn.ready) return;
      await conn.run(`releasing room ${room}`, (client) => RELEASE.run(client, [leaseKey(room)], [self.id]))
        .catch((error: Error) => log?.debug('lease not released now; it expires by itself', { room, error: error.message }));
    },

    async nodes() {
      return (await liveEntries('listing nodes', false)).map(([node]) => node);
    },

    async rooms() {
      const listings: RoomListing[] = [];
      for (const [node, rooms] of await liveEntries('listing rooms', true)) {
        if (!Array.isArray(rooms)) continue;
        for (const room of rooms) {
          if (isRecord(room) && typeof room.name === 'string' && typeof room.participants === 'number') {
            listings.push({ name: room.name, participants: room.participants, node: node.id });
          }
        }
      }
      return listings;
    },

    status(): DirectoryStatus {
      return {
        state: conn.ready && lastOk ? 'connected' : 'reconnecting',
        nodes: liveNodes,
        ...(renewedAt !== undefined ? { renewedAt } : {}),
      };
    },
  };
  return directory;
}

/** The load as stored: finite, non-negative numbers only. */
function loadOf(load: NodeLoad): NodeLoad {
  const n = (value: number) => (Number.isFinite(value) && value > 0 ? value : 0);
  return { sessions: n(load.sessions), rooms: n(load.rooms), cpu: n(load.cpu) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A node entry read from Redis, or undefined when it is not one (written by something else). */
function parseNode(text: unknown): NodeInfo | undefined {
  const value = typeof text === 'string' ? safeJson(text) : undefined;
  if (!isRecord(value) || typeof value.id !== 'string' || typeof value.linkHost !== 'string' || typeof value.linkPort !== 'number') return undefined;
  if (typeof value.machine !== 'string' || typeof value.startedAt !== 'number' || !isRecord(value.load)) return undefined;
  const load = value.load;
  if (typeof load.sessions !== 'number' || typeof load.rooms !== 'number' || typeof load.cpu !== 'number') return undefined;
  return value as unknown as NodeInfo;
}
