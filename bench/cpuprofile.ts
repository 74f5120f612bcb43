/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and lists the hot spots: functions by self time, with
 * their inclusive time, and source lines by self time, mapped back to the TypeScript file and line through
 * the source map of the bundle that ran.
 *
 *   node --import tsx bench/cpuprofile.ts <file.cpuprofile> [<bundle.mjs.map>] [--top 25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT, parseArgs } from './harness.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
  positionTicks?: { line: number; ticks: number }[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** One hot function or line. */
export interface HotSpot {
  name: string;
  /** `core/session.ts:120`, or the URL for code without a source map. */
  where: string;
  /** Share of busy samples (not idle), 0..1. */
  self: number;
  /** Share of busy samples with this function on the stack, 0..1 (functions only). */
  total?: number;
}

/** What `analyzeProfile` finds. */
export interface ProfileSummary {
  /** Busy samples and all samples; wall ms the profile covers. */
  busySamples: number;
  samples: number;
  wallMs: number;
  functions: HotSpot[];
  lines: HotSpot[];
  /** Self time by source file (or native/node category). */
  files: HotSpot[];
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A decoded source map: per generated line (0-based), segments [column, source, line, column]. */
class SourceMap {
  readonly sources: string[];
  readonly lines: number[][][] = [];

  constructor(mapPath: string) {
    const map = JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[]; mappings: string; sourceRoot?: string };
    const base = pathToFileURL(mapPath);
    this.sources = map.sources.map((source) => relative(ROOT, fileURLToPath(new URL(source, base))));
    let source = 0;
    let line = 0;
    let column = 0;
    for (const text of map.mappings.split(';')) {
      const segments: number[][] = [];
      let generated = 0;
      for (const segment of text.split(',')) {
        if (!segment) continue;
        const values = decodeVlq(segment);
        generated += values[0]!;
        if (values.length >= 4) {
          source += values[1]!;
          line += values[2]!;
          column += values[3]!;
          segments.push([generated, source, line, column]);
        }
      }
      this.lines.push(segments);
    }
  }

  /** The original `file:line` (1-based) of a generated line (0-based) and column, if mapped. */
  lookup(line: number, column = 0): string | undefined {
    const segments = this.lines[line];
    if (!segments || segments.length === 0) return undefined;
    let best = segments[0]!;
    for (const segment of segments) if (segment[0]! <= column) best = segment;
    return `${this.sources[best[1]!]}:${best[2]! + 1}`;
  }
}

function decodeVlq(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of text) {
    const digit = BASE64.indexOf(char);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

const NOT_BUSY = new Set(['(idle)', '(root)']);

/** A file URL as a path relative to the repository; `node:` URLs as they are. */
function displayUrl(url: string): string {
  return url.startsWith('file:') ? relative(ROOT, fileURLToPath(url)) : url;
}

/** Finds the hot spots of a profile; `bundleUrl`'s positions are mapped through `map`. */
export function analyzeProfile(profilePath: string, mapPath?: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const map = mapPath ? new SourceMap(mapPath) : undefined;
  const bundleUrl = mapPath ? pathToFileURL(mapPath.replace(/\.map$/, '')).href : undefined;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const where = (frame: CallFrame, line = frame.lineNumber, column = frame.columnNumber): string => {
    if (frame.url === bundleUrl && map) return map.lookup(line, column) ?? `bundle:${line + 1}`;
    if (!frame.url) return '(native)';
    return `${displayUrl(frame.url)}:${line + 1}`;
  };
  const functionKey = (frame: CallFrame) => `${frame.functionName || '(anonymous)'}\u0000${where(frame)}`;

  // Self samples per node, from the sample list (hitCount can be absent).
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  let busy = 0;
  for (const [id, count] of hits) if (!NOT_BUSY.has(byId.get(id)!.callFrame.functionName)) busy += count;

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const lines = new Map<string, { name: string; ticks: number }>();
  const files = new Map<string, number>();
  for (const [id, count] of hits) {
    const node = byId.get(id)!;
    const frame = node.callFrame;
    if (NOT_BUSY.has(frame.functionName)) continue;
    self.set(functionKey(frame), (self.get(functionKey(frame)) ?? 0) + count);
    const file = frame.url === bundleUrl ? where(frame).replace(/:\d+$/, '') : frame.url ? displayUrl(frame.url) : `(native) ${frame.functionName}`;
    files.set(file, (files.get(file) ?? 0) + count);
    // Inclusive: every distinct function on this sample's stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = functionKey(byId.get(at)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + count);
    }
    // V8 also lists lines of functions inlined from other scripts here, by line number alone; keep only the
    // lines that fall just after the function's own start in its own file, which are very likely its own.
    const start = where(frame);
    const [startFile, startLine] = [start.replace(/:\d+$/, ''), Number(start.match(/:(\d+)$/)?.[1])];
    const ticks = frame.url ? (node.positionTicks ?? []) : [];
    const spread = ticks.reduce((sum, tick) => sum + tick.ticks, 0);
    for (const tick of ticks) {
      const place = where(frame, tick.line - 1, 0);
      const line = Number(place.match(/:(\d+)$/)?.[1]);
      if (place.replace(/:\d+$/, '') !== startFile || !(line >= startLine && line < startLine + 80)) continue;
      const entry = lines.get(place) ?? { name: frame.functionName || '(anonymous)', ticks: 0 };
      entry.ticks += (tick.ticks / spread) * count;
      lines.set(place, entry);
    }
  }
  const split = (key: string) => key.split('\u0000') as [string, string];
  return {
    busySamples: busy,
    samples: profile.samples.length,
    wallMs: (profile.endTime - profile.startTime) / 1000,
    functions: [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, count]) => ({
      name: split(key)[0], where: split(key)[1], self: count / busy, total: (total.get(key) ?? 0) / busy,
    })),
    lines: [...lines].sort((a, b) => b[1].ticks - a[1].ticks).slice(0, top).map(([place, entry]) => ({
      name: entry.name, where: place, self: entry.ticks / busy,
    })),
    files: [...files].sort((a, b) => b[1] - a[1]).slice(0, top).map(([file, count]) => ({ name: file, where: '', self: count / busy })),
  };
}

/** The summary as text. */
export function formatProfile(summary: ProfileSummary): string {
  const pct = (x: number | undefined) => (x === undefined ? '' : `${(x * 100).toFixed(1)}%`);
  const out: string[] = [];
  out.push(`${summary.busySamples} busy samples of ${summary.samples} (${((100 * summary.busySamples) / summary.samples).toFixed(0)}% busy) over ${(summary.wallMs / 1000).toFixed(1)} s`);
  out.push('', 'Functions by self time (share of busy time; total = with callees):');
  for (const f of summary.functions) out.push(`  ${pct(f.self).padStart(6)}  total ${pct(f.total).padStart(6)}  ${f.name}  ${f.where}`);
  out.push('', 'Source lines by self time (approximate: V8 gives lines without their script for inlined code):');
  for (const l of summary.lines) out.push(`  ${pct(l.self).padStart(6)}  ${l.where}  (${l.name})`);
  out.push('', 'By file (self time):');
  for (const f of summary.files) out.push(`  ${pct(f.self).padStart(6)}  ${f.name}`);
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const positional = process.argv.slice(2).filter((arg) => /\.(cpuprofile|map)$/.test(arg));
  const args = parseArgs(process.argv.slice(2));
  if (!positional[0]) {
    console.error('usage: node --import tsx bench/cpuprofile.ts <file.cpuprofile> [<bundle.mjs.map>] [--top 25]');
    process.exit(2);
  }
  console.log(formatProfile(analyzeProfile(positional[0], positional[1], Number(args.get('top') ?? 25))));
}
