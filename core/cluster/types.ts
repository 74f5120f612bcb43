/**
 * Cluster mode's contracts, in one place: the nodes, the room directory and the bus (shared/DESIGN.md,
 * "Beyond one process"). Redis implements the directory and the bus in a cluster (core/cluster/redis-*.ts);
 * the embedded default has no directory and an in-process bus (core/cluster/local-bus.ts), so a plugin that
 * publishes on the bus runs the same in both.
 */
import type { JsonObject } from '../json.js';

/** How busy a node is, as it reports itself to the registry every second. */
export interface NodeLoad {
  /** Sessions on the node (quiet tool sessions included). */
  readonly sessions: number;
  /** Rooms the node hosts. */
  readonly rooms: number;
  /** Share of one core the node's process used over the last second, 0…n. */
  readonly cpu: number;
}

/** One node of a cluster: a server process, as the registry knows it. */
export interface NodeInfo {
  /** Unique per process start, e.g. `lab-host-w1-3f9a`. */
  readonly id: string;
  /** Where the node's link listener is (other nodes relay connections there; it also serves this node's /health and /metrics). */
  readonly linkHost: string;
  readonly linkPort: number;
  /** The UDP port for media of sessions on this node (told to clients in WELCOME as `udpPort`). */
  readonly udpPort?: number;
  /**
   * The machine and process group the node belongs to: nodes with the same `machine` are workers of one
   * `confab serve --workers N` and can pass sockets to each other through their primary.
   */
  readonly machine: string;
  /** The worker's number under `--workers` (0…N−1); absent for a node started alone. */
  readonly worker?: number;
  /** When the node started (ms since the epoch). */
  readonly startedAt: number;
  /** Its load at its last renewal. */
  readonly load: NodeLoad;
}

/** A room as the cluster-wide room list shows it (the web join screen, discovery). */
export interface RoomListing {
  readonly name: string;
  /** Visible participants (quiet tool sessions are not counted). */
  readonly participants: number;
  /** The id of the node that hosts it. */
  readonly node: string;
}

/** What a node tells the directory about itself each time it renews. */
export interface NodeReport {
  readonly load: NodeLoad;
  readonly rooms: ReadonlyArray<Omit<RoomListing, 'node'>>;
}

/** The directory's connection to its store (Redis), for /health. */
export interface DirectoryStatus {
  /** `connected`, or `reconnecting` while Redis cannot be reached (rooms already running keep running). */
  readonly state: 'connected' | 'reconnecting';
  /** The live nodes at the last successful renewal, this one included. */
  readonly nodes: readonly NodeInfo[];
  /** When the last renewal succeeded (ms since the epoch), or undefined before the first. */
  readonly renewedAt?: number;
}

/**
 * The cluster's directory: the node registry (each node renews its entry every second; an entry expires a
 * few seconds after its node stops renewing) and the room directory (the node that hosts a room holds a
 * lease on it and renews it; a dead node's rooms free themselves within 5 s).
 *
 * Every method that needs Redis and cannot reach it rejects with a ConfabError CLUSTER_UNAVAILABLE that is
 * retryable; nothing a node already hosts depends on Redis being up.
 */
export interface ClusterDirectory {
  /** This node, as registered. */
  readonly self: Omit<NodeInfo, 'load'>;
  /**
   * Registers this node and starts renewing its entry and its room leases every second with `report()`.
   * Resolves once registered; rejects with CLUSTER_UNAVAILABLE when Redis cannot be reached at start.
   */
  start(report: () => NodeReport): Promise<void>;
  /** Stops renewing, releases this node's leases, removes its entry, and disconnects. Idempotent. */
  close(): Promise<void>;
  /**
   * The node that hosts `room`: the holder of its lease if that node is alive, else a placement: the least
   * loaded live node, whose lease is claimed in its name (atomically, so two nodes placing the same room at
   * once agree). The chosen node confirms the lease with `claim` when the room is created there.
   */
  locate(room: string): Promise<NodeInfo>;
  /**
   * Takes or confirms this node's lease on `room` (when it creates the room). True when the lease is this
   * node's now; false when another live node holds it. From now on the lease is renewed with the node's
   * entry until `release`. While Redis is unreachable it resolves true for a room the node already holds and
   * re-asserts its leases when Redis is back.
   */
  claim(room: string): Promise<boolean>;
  /** Gives up this node's lease on `room` (when the room is disposed). */
  release(room: string): Promise<void>;
  /** The live nodes, this one included. */
  nodes(): Promise<NodeInfo[]>;
  /** Every room of every live node, from their last renewals. */
  rooms(): Promise<RoomListing[]>;
  /** The directory's view, for /health (no Redis round trip). */
  status(): DirectoryStatus;
}

/** A message on the bus, as a subscriber receives it. */
export interface BusMessage {
  /** The topic it was published on, e.g. `auth.revoked`. */
  readonly topic: string;
  /** The id of the node that published it. */
  readonly from: string;
  readonly data: JsonObject;
}

/**
 * The cluster's bus: what crosses nodes (revocations, bans, meeting starts). A message published on a topic
 * reaches every node's subscribers of that topic once, the publisher's own included. Embedded, it stays in
 * the process (core/cluster/local-bus.ts); in a cluster it goes through Redis pub/sub.
 */
export interface ClusterBus {
  /**
   * Publishes `data` on `topic`. Resolves once handed to the bus; rejects with CLUSTER_UNAVAILABLE (retryable)
   * when Redis cannot be reached, so the caller can refuse what it could not spread.
   */
  publish(topic: string, data: JsonObject): Promise<void>;
  /** Calls `handler` for each message on `topic` from now on; returns the function that unsubscribes. */
  subscribe(topic: string, handler: (message: BusMessage) => void): () => void;
  /**
   * True for exactly one caller per `key` among all nodes within `ttlMs` (a meeting's start announced once
   * though every node's timer fires). Rejects with CLUSTER_UNAVAILABLE when Redis cannot be reached.
   */
  once(key: string, ttlMs: number): Promise<boolean>;
  /** Stops delivering and disconnects. Idempotent. */
  close(): Promise<void>;
}

/**
 * The `cluster` server option: this server is one node of a cluster whose directory and bus are on Redis.
 * `confab serve` fills it from `--redis-url`, `--cluster-secret`, `--workers` and the environment
 * (CONFAB_REDIS_URL, CONFAB_CLUSTER_SECRET); see docs/cluster.md.
 */
export interface ClusterOptions {
  /** Redis URL (`redis://[:password@]host:port[/db]`); its password is never logged. */
  redis: string;
  /** The secret every node of the cluster shares, at least 16 characters: the node link refuses anyone without it. */
  secret: string;
  /** The address other nodes reach this node's link at. Default: the server's host. */
  advertise?: string;
  /** The port of the node link. Default 0: a free one, registered in the directory. */
  linkPort?: number;
  /** The machine's name in the directory: nodes with the same one pass sockets to each other. Default: the host name. */
  machine?: string;
  /** This node's number under `confab serve --workers N`; set by the primary, not by hand. */
  worker?: number;
}
