/**
 * The load tester's report as text for a person (`--json` prints the LoadReport object instead).
 */
import type { LoadReport } from './load.js';
import type { KindReport } from './stats.js';

/**
 * Formats a report as a few aligned lines.
 *
 * @example
 *   process.stdout.write(formatLoadReport(report));
 */
export function formatLoadReport(report: LoadReport): string {
  const lines = [
    `Load test: ${report.joined}/${report.bots} bots joined ${report.room} at ${report.server}, ${report.durationS} s of traffic`,
    `join time (ms)    p50 ${report.joinMs.p50}  p95 ${report.joinMs.p95}  p99 ${report.joinMs.p99}  max ${report.joinMs.max}`,
  ];
  const kinds: Array<[string, KindReport | undefined]> = [['video', report.video], ['audio mix', report.audio], ['chat', report.chat]];
  for (const [name, kind] of kinds) {
    if (!kind) continue;
    const lossPercent = kind.expected > 0 ? ((kind.lost / kind.expected) * 100).toFixed(2) : '0.00';
    lines.push(
      `${name.padEnd(10)} latency (ms) p50 ${kind.latencyMs.p50}  p95 ${kind.latencyMs.p95}  p99 ${kind.latencyMs.p99}  max ${kind.latencyMs.max}`,
      `${''.padEnd(10)} sent ${kind.sent} (not sent: ${kind.notSent})  expected ${kind.expected}  received ${kind.received}  lost ${kind.lost} (${lossPercent} %)  duplicates ${kind.duplicates}`,
      `${''.padEnd(10)} throughput ${kind.framesPerSecond} frames/s, ${formatBytes(kind.bytesPerSecond)}/s`,
    );
  }
  const errors = Object.entries(report.errors);
  lines.push(errors.length === 0 ? 'errors: none' : `errors: ${errors.map(([code, count]) => `${code} ×${count}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
