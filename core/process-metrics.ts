/**
 * The process's own metrics: prom-client's default set (CPU, resident memory, heap, GC, open handles,
 * event-loop lag) and `confab_build_info`. They describe the process, which every server in it shares, so
 * they live in one registry per process (never prom-client's global one), rendered after each server's own;
 * the event-loop monitor behind the lag gauges is started once and runs for the life of the process.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { VERSION } from './version.js';

/** How often the event-loop delay is sampled, ms (prom-client's default). */
const EVENT_LOOP_RESOLUTION_MS = 10;

let registry: Registry | undefined;

/**
 * The process's registry, created on first use.
 *
 * @example
 *   const text = await processMetrics().metrics(); // process_cpu_seconds_total, nodejs_eventloop_lag_p99_seconds…
 */
export function processMetrics(): Registry {
  if (registry) return registry;
  registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  new Gauge({
    name: 'confab_build_info',
    help: 'Always 1; its labels name the Confab and Node.js versions this process runs.',
    labelNames: ['version', 'node'],
    registers: [registry],
  }).set({ version: VERSION, node: process.version }, 1);
  return registry;
}
