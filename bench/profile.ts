/**
 * Profiles a server under a bench: bundles bench/confab-server.ts (or the baseline) with esbuild, with a
 * source map so samples map back to the TypeScript lines (tsx's minified output would not), runs it with
 * `node --cpu-prof` under the chat fan-out bench (that server only) or the join bench, and prints the hot
 * spots (bench/cpuprofile.ts).
 *
 *   node --import tsx bench/profile.ts                 fan-out at 250 msgs/s and the max phase
 *   node --import tsx bench/profile.ts --rates 1000 --no-max
 *   node --import tsx bench/profile.ts --join          the join bench instead
 *   node --import tsx bench/profile.ts --baseline      the bare ws baseline under the fan-out bench, to compare
 *
 * The profile stays in bench/.profiles/ (git-ignored); open it in Chrome DevTools for the whole picture.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { fanoutOptionsFromArgs, formatFanout, runChatFanout } from './chat-fanout.js';
import { analyzeProfile, formatProfile } from './cpuprofile.js';
import { ROOT, parseArgs, stopAllServers } from './harness.js';
import { formatJoin, joinOptionsFromArgs, runJoinLatency } from './join-latency.js';

const args = parseArgs(process.argv.slice(2));
const target = args.has('baseline') ? 'baseline-ws-broadcast' : 'confab-server';
// The bundle sits in bench/ so that `../package.json` (core/version.ts) still finds the root's.
const bundle = `bench/.${target}.profile.mjs`;
const profiles = join(ROOT, 'bench/.profiles');

try {
  mkdirSync(profiles, { recursive: true });
  await build({
    entryPoints: [join(ROOT, `bench/${target}.ts`)],
    outfile: join(ROOT, bundle),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node}`,
    packages: 'external',
    sourcemap: 'external',
    keepNames: true,
    logLevel: 'warning',
  });
  const started = Date.now();
  const cpuProf = ['--cpu-prof', `--cpu-prof-dir=${profiles}`];
  if (args.has('baseline')) {
    const options = { rates: [250], ...fanoutOptionsFromArgs(args), servers: ['baseline' as const] };
    console.log(formatFanout(await runChatFanout({ ...options, baselineScript: bundle, baselineNodeArgs: cpuProf })));
  } else if (args.has('join')) {
    console.log(formatJoin(await runJoinLatency({ ...joinOptionsFromArgs(args), confabScript: bundle, confabNodeArgs: cpuProf })));
  } else {
    const options = { rates: [250], ...fanoutOptionsFromArgs(args), servers: ['confab' as const] };
    console.log(formatFanout(await runChatFanout({ ...options, confabScript: bundle, confabNodeArgs: cpuProf })));
  }
  // The server's main thread wrote the biggest of the new profiles.
  const newest = readdirSync(profiles)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(profiles, name))
    .filter((path) => statSync(path).mtimeMs >= started)
    .sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!newest) throw new Error(`no profile was written to ${profiles}`);
  console.log(`\nCPU profile of the ${args.has('baseline') ? 'baseline' : 'Confab'} server: ${newest}\n`);
  console.log(formatProfile(analyzeProfile(newest, join(ROOT, `${bundle}.map`), Number(args.get('top') ?? 30))));
} catch (error) {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
} finally {
  await stopAllServers();
}
