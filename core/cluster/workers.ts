/**
 * `confab serve --workers N`, the primary process: it forks N workers that run the same command (each a node
 * of the cluster, all accepting on the one port through node:cluster), passes a client's socket from the
 * worker it reached to the worker hosting its room, starts a worker again when one dies, and stops them all
 * on SIGINT or SIGTERM.
 */
import cluster, { type Worker } from 'node:cluster';
import { isHandoverMessage, isReadyMessage } from './node.js';

/** The environment variable that tells a worker its number. */
export const WORKER_ENV = 'CONFAB_WORKER';

/** How long the primary waits before starting a dead worker again. */
const RESTART_DELAY_MS = 500;

/** The worker number this process was started as, or undefined when it is not a worker of `--workers`. */
export function workerNumber(): number | undefined {
  const value = process.env[WORKER_ENV];
  return cluster.isWorker && value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * Runs the primary of `--workers count`: resolves with the exit code once a signal stopped every worker.
 * `say` prints a line for the operator.
 */
export function runPrimary(count: number, say: (line: string) => void): Promise<number> {
  const workers: Array<Worker | undefined> = [];
  /** Worker number → the node id it said it is ready as. */
  const ready = new Map<number, string>();
  let stopping = false;
  const start = (index: number) => {
    const worker = cluster.fork({ [WORKER_ENV]: String(index) });
    workers[index] = worker;
    worker.on('message', (message: unknown, handle: unknown) => {
      if (isReadyMessage(message)) ready.set(index, message.node);
      if (!isHandoverMessage(message)) return;
      // Only to the very node the directory named, once it takes sockets; else the client's socket is closed
      // and the client tries again (by then the directory knows better).
      const target = workers[message.to];
      const socket = handle as { destroy(): void } | undefined;
      if (target?.isConnected() && ready.get(message.to) === message.node) target.send(message, socket as never);
      else socket?.destroy();
    });
    worker.on('exit', (code, signal) => {
      if (workers[index] === worker) {
        workers[index] = undefined;
        ready.delete(index);
      }
      if (stopping) return;
      say(`confab: worker ${index} exited (${signal ?? `code ${code}`}); starting it again`);
      setTimeout(() => {
        if (!stopping) start(index);
      }, RESTART_DELAY_MS);
    });
  };
  for (let index = 0; index < count; index++) start(index);

  return new Promise((done) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      say(`confab: ${signal}, stopping ${count} workers`);
      const running = workers.filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
      if (running.length === 0) done(0);
      let left = running.length;
      let failed = false;
      for (const worker of running) {
        worker.once('exit', (code) => {
          failed ||= code !== 0;
          if (--left === 0) done(failed ? 1 : 0);
        });
        worker.process.kill('SIGTERM');
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
