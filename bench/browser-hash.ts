/**
 * Download verification speed in Chromium: the files client's browser SHA-256 hasher fed a file in
 * download-sized chunks, as the client verifies a download while it streams. The hasher module is bundled
 * with esbuild (as plugins/web bundles the web client) and run in Debian's Chromium through playwright-core
 * (as test/helpers/browser.ts does). Each round creates a new hasher, as each download does; the first round
 * also pays for loading the hasher (for hash-wasm: compiling its WebAssembly). Every digest is checked
 * against node:crypto's.
 *
 *   node --import tsx bench/browser-hash.ts [--hasher <file>#<export>] [--mib 64] [--chunk-kib 256] [--rounds 5] [--json]
 *
 * `--hasher` names a module and its export, a function that returns a hasher (or a promise of one) with
 * `update(bytes)` and `digest()` (hex). Default: the files client's, `plugins/files/hasher.ts#createSha256`.
 * To measure another build, give its file: `--hasher ../old/plugins/files/sha256.ts#createSha256`.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { fixed, int, parseArgs, ROOT, table } from './harness.js';

const args = parseArgs(process.argv.slice(2));
const [hasherFile, hasherExport] = (args.get('hasher') ?? 'plugins/files/hasher.ts#createSha256').split('#') as [string, string | undefined];
const mib = Number(args.get('mib') ?? 64);
const chunkBytes = Number(args.get('chunk-kib') ?? 256) * 1024;
const rounds = Number(args.get('rounds') ?? 5);

/** The page's side: deterministic bytes (xorshift32), then `rounds` hashes of them in chunks, timed. */
const PAGE = `
import { ${hasherExport ?? 'createSha256'} as createHasher } from ${JSON.stringify(resolve(ROOT, hasherFile))};
globalThis.runBench = async (bytes, chunkBytes, rounds) => {
  const data = new Uint8Array(bytes);
  let x = 2463534242;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    data[i] = x & 255;
  }
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const hasher = await createHasher();
    for (let at = 0; at < bytes; at += chunkBytes) hasher.update(data.subarray(at, Math.min(bytes, at + chunkBytes)));
    const digest = hasher.digest();
    results.push({ ms: performance.now() - started, digest });
  }
  return results;
};
`;

/** The same bytes as the page's, for the expected digest. */
function expectedDigest(bytes: number): string {
  const data = new Uint8Array(bytes);
  let x = 2463534242;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 255;
  }
  return createHash('sha256').update(data).digest('hex');
}

const bundle = await build({
  stdin: { contents: PAGE, resolveDir: ROOT, loader: 'ts' },
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  logLevel: 'silent',
});
const script = bundle.outputFiles[0]!.text;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
});
try {
  const page = await browser.newPage();
  await page.addScriptTag({ content: script });
  const bytes = mib * 2 ** 20;
  const results = await page.evaluate(([n, chunk, count]) => (globalThis as unknown as {
    runBench(bytes: number, chunkBytes: number, rounds: number): Promise<Array<{ ms: number; digest: string }>>;
  }).runBench(n, chunk, count), [bytes, chunkBytes, rounds] as const);
  const expected = expectedDigest(bytes);
  const wrong = results.filter((result) => result.digest !== expected).length;
  if (wrong > 0) throw new Error(`${wrong} of ${results.length} digests differ from node:crypto's ${expected}`);
  const rate = (ms: number) => bytes / 2 ** 20 / (ms / 1000);
  const later = results.slice(1).map((result) => result.ms).sort((a, b) => a - b);
  const median = later.length > 0 ? later[Math.floor(later.length / 2)]! : results[0]!.ms;
  const report = {
    hasher: `${hasherFile}#${hasherExport ?? 'createSha256'}`,
    chromium: browser.version(),
    mib,
    chunkKib: chunkBytes / 1024,
    firstRoundMiBps: rate(results[0]!.ms),
    medianMiBps: rate(median),
    roundsMs: results.map((result) => result.ms),
  };
  if (args.has('json')) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(`download verification in Chromium ${report.chromium}: ${report.hasher}, ${mib} MiB in ${report.chunkKib} KiB chunks, ${rounds} rounds (digests checked)\n`);
    console.log(table(['round', 'ms', 'MiB/s'], results.map((result, i) => [String(i + 1), fixed(result.ms, 1), int(rate(result.ms))])));
    console.log(`\nfirst round (loading the hasher too): ${int(report.firstRoundMiBps)} MiB/s; median of the others: ${int(report.medianMiBps)} MiB/s`);
  }
} finally {
  await browser.close();
}
