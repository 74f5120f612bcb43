/**
 * `npm run bench`: the chat fan-out bench (bare ws baseline, then Confab) and the join latency bench, in
 * sequence, then every goal in one list. Each server runs in a process of its own pinned to CPU 0 and is
 * stopped by its PID when its bench ends (also on an error or Ctrl-C); this process pins itself to CPU 1.
 * About 90 s.
 *
 *   npm run bench                     everything, as text
 *   npm run bench -- --json           everything, as one JSON object
 *   npm run bench -- --rounds 1 --joins 100       shorter (noisier)
 *
 * Options are those of bench/chat-fanout.ts and bench/join-latency.ts.
 */
import { fanoutOptionsFromArgs, formatFanout, runChatFanout } from './chat-fanout.js';
import { backgroundLoad, parseArgs, pinSelf, stopAllServers } from './harness.js';
import { formatJoin, joinOptionsFromArgs, runJoinLatency } from './join-latency.js';

const args = parseArgs(process.argv.slice(2));
const json = args.has('json');
const log = (line: string) => process.stderr.write(line + '\n');

try {
  const loadgen = pinSelf(1);
  const background = await backgroundLoad(1000);
  const busyNote = background !== undefined && background > 0.2
    ? `warning: before the run, other processes used ${(background * 100).toFixed(0)}% of a core on this machine; the numbers will be disturbed`
    : undefined;
  if (busyNote) log(busyNote);
  const started = performance.now();
  const fanout = await runChatFanout({ ...fanoutOptionsFromArgs(args), log }, { loadgen });
  const join = await runJoinLatency({ ...joinOptionsFromArgs(args), log }, { loadgen });
  const goals = [...fanout.goals, join.goal];
  if (json) {
    console.log(JSON.stringify({ backgroundLoadBefore: background, fanout, join, goals }, null, 2));
  } else {
    console.log('');
    if (busyNote) console.log(busyNote + '\n');
    console.log(formatFanout(fanout));
    console.log('');
    console.log(formatJoin(join));
    console.log('');
    console.log('All goals:');
    for (const goal of goals) console.log(`  ${(goal.met === undefined ? 'n/a' : goal.met ? 'MET' : 'NOT MET').padEnd(7)}  ${goal.goal}: ${goal.detail}`);
    console.log(`\n(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
} finally {
  await stopAllServers();
}
