/**
 * `confab serve`: loads the config, lets command-line flags override its server options, listens, and
 * closes cleanly on SIGINT or SIGTERM.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { resolveServerOptions } from '../core/config.js';
import { DEFAULT_CONFIG_FILE, loadConfigFile } from '../core/config-loader.js';
import { ConfabError, isConfabError } from '../core/errors.js';
import { createServer } from '../core/server.js';
import type { ClusterOptions } from '../core/cluster/types.js';
import { runPrimary, workerNumber } from '../core/cluster/workers.js';
import type { ConfabConfig, ResolvedServerOptions, ServerOptions } from '../core/types.js';
import { builtinPlugins } from '../plugins/index.js';
import { cliError } from './errors.js';

export const usage = `Usage: confab serve [options]

Starts a Confab server: HTTP, WebSocket (/ws) and framed TCP on one port, UDP media on the same number.

Options:
  --host <address>     address to bind (default 127.0.0.1; 0.0.0.0 opens the server to the LAN)
  --port <n>           port to listen on (default 5000; 0 picks a free one, printed once listening)
  --config <file>      config file (default ./${DEFAULT_CONFIG_FILE}; without one, the built-in plugins)
  --data-dir <dir>     directory for the store and plugin files (default ./.confab)
  --store-url <url>    the store: postgres://user:password@host:5432/db (PostgreSQL), or
                       sqlite:<file> (default: $CONFAB_STORE_URL, else <data-dir>/confab.db);
                       the password is never printed or logged (docs/store.md)
  --log-level <level>  debug, info, warn, error or silent (default info)
  --tls <mode>         self-signed (generate one, kept in <data-dir>/tls/) or off
                       (default: self-signed when --host is not loopback, else off)
  --tls-cert <file>    PEM certificate for TLS; needs --tls-key, not --tls
  --tls-key <file>     PEM private key of --tls-cert
  --workers <n>        cluster mode: n node processes behind the one port (needs --redis-url); worker i
                       takes UDP media on port+1+i
  --redis-url <url>    cluster mode: the Redis of the room directory and the bus (or CONFAB_REDIS_URL)
  --cluster-secret <s> the secret every node shares, 16+ characters (or CONFAB_CLUSTER_SECRET)
  --advertise <host>   the address other machines reach this node at (default --host)
  --link-port <n>      the node link's port (default: a free one; worker i takes n+i)
  -h, --help           show this help

TLS (https, wss, tls://) shares the port with plain traffic; LAN browsers need it for camera and mic.
Cluster mode (docs/cluster.md): run the same command with the same Redis and secret on each machine.
Flags override the server options of the config file. Ctrl-C closes the server (every session gets BYE);
a second Ctrl-C exits at once.
`;

/** Flag name → server option it sets. */
const FLAGS = { host: 'host', port: 'port', 'data-dir': 'dataDir', 'store-url': 'store', 'log-level': 'logLevel' } as const;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      config: { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      'store-url': { type: 'string' },
      'log-level': { type: 'string' },
      tls: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      workers: { type: 'string' },
      'redis-url': { type: 'string' },
      'cluster-secret': { type: 'string' },
      advertise: { type: 'string' },
      'link-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }

  if (values.host !== undefined) checkHost(values.host);
  const overrides = { ...readFlags(values), ...readTlsFlags(values) };
  const config = await loadServeConfig(values.config);
  const clusterFlags = readClusterFlags(values, { ...config.server, ...overrides });
  // Checked here as well as in createServer so that a wrong option fails before anything is opened.
  const options = resolveServerOptions({ ...config.server, ...overrides, ...clusterFlags.server });
  if (clusterFlags.workers !== undefined && cluster.isPrimary) {
    const { redactUrl } = await import('../core/cluster/redis.js');
    process.stdout.write(`Confab primary: ${clusterFlags.workers} workers on port ${options.port}, cluster on ${redactUrl(options.cluster!.redis)}\n`);
    return runPrimary(clusterFlags.workers, (line) => process.stderr.write(`${line}\n`));
  }
  const server = await createServer({ ...config, server: options });

  let listening;
  try {
    listening = await server.listen();
  } catch (error) {
    await server.close();
    throw error;
  }
  // A worker stops when its primary tells it (SIGTERM); the terminal's Ctrl-C reaches the primary too.
  if (workerNumber() !== undefined) process.on('SIGINT', () => undefined);
  const stopped = untilSignal(() => server.close(), workerNumber() !== undefined ? ['SIGTERM'] : ['SIGINT', 'SIGTERM']);
  process.stdout.write(`${listeningLine(listening, options, config)}\n`);
  // Only the redacted form of a PostgreSQL URL is ever shown (the SQLite default says nothing new).
  if (server.readiness.store !== 'unused' && server.store.dialect === 'postgres') process.stdout.write(`store: ${server.store.location}\n`);
  if (server.cluster) process.stdout.write(`Cluster node ${server.cluster.id} (pid ${process.pid}), link port ${server.cluster.self.linkPort}\n`);
  if (server.tls) {
    const scheme = `https://${listening.host.includes(':') ? `[${listening.host}]` : listening.host}:${listening.port}`;
    process.stdout.write(`TLS on the same port (${scheme}, wss, tls://), ${server.tls.source} certificate ${server.tls.certPath}\n`
      + `  SHA-256 fingerprint: ${server.tls.fingerprint}\n`);
  }
  return stopped;
}

/**
 * Refuses a `--host` that cannot be an address to bind: four numbers that are no IPv4 address (256.1.1.1),
 * or text that is neither an IP address nor a host name. Throws CLI_OPTION_INVALID.
 */
function checkHost(host: string): void {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) !== 0) return;
  if (/^[\d.]+$/.test(bare)) {
    throw cliError('CLI_OPTION_INVALID', `--host ${host} is not an IPv4 address: it has four numbers from 0 to 255, like 0.0.0.0 or 192.168.1.20`);
  }
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(bare)) {
    throw cliError('CLI_OPTION_INVALID', `--host "${host}" is neither an IP address nor a host name; use 127.0.0.1 (this machine) or 0.0.0.0 (the LAN)`);
  }
}

/** The flags given, as server options, each checked under its flag name (`--port must be …`). */
function readFlags(values: Partial<Record<keyof typeof FLAGS, string>>): ServerOptions {
  const overrides: Record<string, unknown> = {};
  for (const [flag, option] of Object.entries(FLAGS)) {
    const value = values[flag as keyof typeof FLAGS];
    if (value === undefined) continue;
    // A number-like port becomes a number; anything else stays a string so the error quotes it.
    overrides[option] = option === 'port' && /^\d+$/.test(value) ? Number(value) : value;
  }
  try {
    resolveServerOptions(overrides);
  } catch (error) {
    if (!isConfabError(error)) throw error;
    const message = error.message.replace(/^server\.(\w+)/, (_, option: string) => {
      const flag = Object.entries(FLAGS).find(([, name]) => name === option)?.[0];
      return flag ? `--${flag}` : `server.${option}`;
    });
    throw new ConfabError(error.code, message);
  }
  return overrides as ServerOptions;
}

/**
 * The TLS flags as the `tls` server option: `--tls self-signed|off`, or `--tls-cert` with `--tls-key`
 * (paths resolved against the working directory). Nothing when none is given.
 */
function readTlsFlags(values: { tls?: string; 'tls-cert'?: string; 'tls-key'?: string }): ServerOptions {
  const { tls, 'tls-cert': cert, 'tls-key': key } = values;
  if (tls !== undefined && (cert !== undefined || key !== undefined)) {
    throw new ConfabError('CONFIG_INVALID', '--tls cannot be combined with --tls-cert/--tls-key: give a mode or a certificate');
  }
  if (tls !== undefined) {
    if (tls !== 'self-signed' && tls !== 'off') throw new ConfabError('CONFIG_INVALID', `--tls must be self-signed or off, got "${tls}"`);
    return { tls };
  }
  if (cert === undefined && key === undefined) return {};
  if (cert === undefined || key === undefined) throw new ConfabError('CONFIG_INVALID', '--tls-cert and --tls-key go together: give both');
  return { tls: { cert: resolve(cert), key: resolve(key) } };
}

/** The config to serve: --config, else ./plugins.config.ts if there is one, else the built-in plugins. */
async function loadServeConfig(path: string | undefined): Promise<ConfabConfig> {
  if (path !== undefined) return (await loadConfigFile(path)).config;
  if (existsSync(resolve(process.cwd(), DEFAULT_CONFIG_FILE))) return (await loadConfigFile()).config;
  return { server: {}, plugins: builtinPlugins() };
}

/** `Confab listening on http://127.0.0.1:5000 (tcp, ws /ws, udp) with plugins: chat, files` */
function listeningLine(at: { host: string; port: number }, options: ResolvedServerOptions, config: ConfabConfig): string {
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  const transports = ['tcp', 'ws /ws', ...(options.udp ? ['udp'] : [])].join(', ');
  const names = (config.plugins ?? []).map((plugin) => plugin.name);
  const plugins = names.length > 0 ? `with plugins: ${names.join(', ')}` : 'with no plugins';
  return `Confab listening on http://${host}:${at.port} (${transports}) ${plugins}`;
}

/**
 * Resolves with the exit code once SIGINT or SIGTERM has closed the server: 0, or 1 if closing failed.
 * A second signal while closing exits at once.
 */
function untilSignal(close: () => Promise<void>, signals: NodeJS.Signals[]): Promise<number> {
  return new Promise((done) => {
    let closing = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) {
        process.stderr.write(`confab: ${signal} again, exiting without waiting\n`);
        process.exit(130);
      }
      closing = true;
      process.stderr.write(`confab: ${signal}, closing (Ctrl-C again to exit at once)\n`);
      close().then(
        () => done(0),
        (error: unknown) => {
          process.stderr.write(`confab: closing failed: ${error instanceof Error ? error.message : String(error)}\n`);
          done(1);
        },
      );
    };
    for (const signal of signals) process.on(signal, onSignal);
  });
}

/**
 * The cluster flags (and CONFAB_REDIS_URL, CONFAB_CLUSTER_SECRET) as the `cluster` and `udpPort` server
 * options, and the worker count. Nothing when neither a Redis URL nor `--workers` is given. In a worker of
 * `--workers`, its number sets its UDP port (port+1+i) and link port.
 */
function readClusterFlags(values: { workers?: string; 'redis-url'?: string; 'cluster-secret'?: string; advertise?: string; 'link-port'?: string },
  server: ServerOptions): { workers?: number; server: ServerOptions } {
  const redis = values['redis-url'] ?? process.env.CONFAB_REDIS_URL ?? server.cluster?.redis;
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 64)) {
    throw cliError('CLI_OPTION_INVALID', `--workers must be a whole number from 1 to 64, got "${values.workers}"`);
  }
  if (redis === undefined) {
    if (workers !== undefined) throw cliError('CLI_OPTION_INVALID', '--workers needs the cluster\'s Redis: --redis-url redis://127.0.0.1:6379 (or CONFAB_REDIS_URL); see docs/cluster.md');
    return { server: {} };
  }
  const port = server.port ?? 5000;
  if (workers !== undefined && port === 0) throw cliError('CLI_OPTION_INVALID', '--workers needs a fixed --port: worker i takes UDP port+1+i');
  const linkPort = values['link-port'] === undefined ? server.cluster?.linkPort : Number(values['link-port']);
  const worker = workerNumber();
  const options: ClusterOptions = {
    ...server.cluster,
    redis,
    secret: values['cluster-secret'] ?? process.env.CONFAB_CLUSTER_SECRET ?? server.cluster?.secret ?? '',
    ...(values.advertise !== undefined ? { advertise: values.advertise } : {}),
    ...(linkPort !== undefined ? { linkPort: worker !== undefined && linkPort !== 0 ? linkPort + worker : linkPort } : {}),
    ...(worker !== undefined ? { worker } : {}),
  };
  return { workers, server: { cluster: options, ...(worker !== undefined ? { udpPort: port + 1 + worker } : {}) } };
}
