/**
 * The load tester's report as text for a person (`--json` prints the LoadReport object instead).
 */
import type { LayeredReport } from './layers.js';
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
  const kinds: Array<[string, KindReport | undefined]> = [
    [report.video ? `video ${report.video.codec}` : 'video', report.video],
    [report.audio ? `mix ${report.audio.codec}` : 'mix', report.audio],
    ['chat', report.chat],
  ];
  for (const [name, kind] of kinds) {
    if (!kind) continue;
    const layered = kind === report.video ? report.video.layered : undefined;
    const lossPercent = kind.expected > 0 ? ((kind.lost / kind.expected) * 100).toFixed(2) : '0.00';
    lines.push(
      `${name.padEnd(10)} latency (ms) p50 ${kind.latencyMs.p50}  p95 ${kind.latencyMs.p95}  p99 ${kind.latencyMs.p99}  max ${kind.latencyMs.max}`,
      `${''.padEnd(10)} sent ${kind.sent} (not sent: ${kind.notSent})  expected ${kind.expected}  received ${kind.received}${layered ? ' decodable' : ''}` +
        `  lost ${kind.lost}${layered ? ' base-layer' : ''} (${lossPercent} %)  duplicates ${kind.duplicates}`,
    );
    if (layered) lines.push(...layerLines(layered));
    lines.push(`${''.padEnd(10)} throughput ${kind.framesPerSecond} frames/s, ${formatBytes(kind.bytesPerSecond)}/s`);
  }
  const errors = Object.entries(report.errors);
  lines.push(errors.length === 0 ? 'errors: none' : `errors: ${errors.map(([code, count]) => `${code} ×${count}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** One line per temporal layer: how much of what was sent arrived, and what could not be decoded. */
function layerLines(layered: LayeredReport): string[] {
  const lines = layered.layers.map(({ layer, sent, expected, received }) => {
    const share = expected > 0 ? ((received / expected) * 100).toFixed(1) : '0.0';
    return `${''.padEnd(10)} layer ${layer}: sent ${sent}  delivered ${received} of ${expected} (${share} %)`;
  });
  lines.push(`${''.padEnd(10)} undecodable arrivals ${layered.undecodable}  keyframe requests answered ${layered.keyframeRequests}`);
  return lines;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}
