#!/usr/bin/env node
/**
 * The test runner behind `npm test`.
 *
 * Runs every `test/**\/*.test.ts` and `plugins/**\/*.test.ts` (sorted) in a child process of its own, `node --import tsx <file>`, one file
 * at a time: the tests open real sockets and the machines they run on have few cores. Each child's output
 * streams through as it arrives, under a `# <file>` header. Each file's uvu summary is parsed and added up,
 * coverage of all children is collected through NODE_V8_COVERAGE and reported by c8, and the very last line
 * of output is `N passed, N failed[, N skipped]`. The exit code is 1 when anything failed or nothing ran.
 *
 * Usage:
 *   node test/run.mjs            every test file
 *   node test/run.mjs chat core  only files whose path contains "chat" or "core" (`npm test -- chat`)
 *
 * Environment:
 *   CONFAB_TEST_TIMEOUT_MS     per-file time limit, default 120000; the file's process group is then killed
 *   CONFAB_TEST_EXIT_GRACE_MS  how long a file may keep running after uvu printed its summary, default 10000
 *   CONFAB_TEST_COVERAGE=0     skip coverage collection and the c8 report
 *   CONFAB_TEST_POSTGRES=0     skip the second pass against PostgreSQL (below)
 *
 * The PostgreSQL pass: after every selected file ran, the selected ones of POSTGRES_PASS (the store-touching
 * files) run again with CONFAB_TEST_STORE=postgres, under `# <file> (postgres)` headers, each file on its
 * own private PostgreSQL (test/helpers/postgres.ts); their results count in the same final line. Without
 * PostgreSQL's binaries the pass is left out with a note.
 *
 * How a file counts (uvu 0.5's summary: Total = tests that ran, Passed, Skipped = test.skip()s and the tests
 * left out by test.only(); skipped tests are not part of Total):
 *   passed  += Passed
 *   failed  += Total - Passed
 *   skipped += Skipped
 * and one more failure for the file when it timed out, exited by a signal, printed no uvu summary, or exited
 * non-zero although its summary showed no failed test (e.g. an error thrown after the tests).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where tests live: the suite, and plugin folders (a plugin made by `confab new plugin` keeps its test beside it). */
const TEST_DIRS = [path.join(ROOT, 'test'), path.join(ROOT, 'plugins')];
const TIMEOUT_MS = positiveInt(process.env.CONFAB_TEST_TIMEOUT_MS, 120_000);
const EXIT_GRACE_MS = positiveInt(process.env.CONFAB_TEST_EXIT_GRACE_MS, 10_000);
const COVERAGE = process.env.CONFAB_TEST_COVERAGE !== '0';
/** After a child exits, how long its stdout/stderr may stay open (held by a process it left behind). */
const CLOSE_GRACE_MS = 2_000;
/** After a child's output closed, how long the rest of its process group may take to exit on its own. */
const LEFTOVER_GRACE_MS = 1_000;
/** After SIGTERM to a process group, how long before SIGKILL. */
const KILL_GRACE_MS = 3_000;
/**
 * The store-touching test files, run a second time with CONFAB_TEST_STORE=postgres: their test servers then
 * keep their store in a private PostgreSQL (test/helpers/postgres.ts) instead of SQLite. Short on purpose.
 */
const POSTGRES_PASS = [
  'test/core/store.test.ts',
  'test/plugins/chat.test.ts',
  'test/plugins/scheduler.test.ts',
  'test/plugins/files.test.ts',
  'test/plugins/files-client.test.ts',
  'test/security/revocation.test.ts',
  'test/security/auth.test.ts',
  'test/security/moderation.test.ts',
  // Cluster nodes on one PostgreSQL, as a cluster of several machines runs.
  'test/cluster/cluster.test.ts',
  'test/cluster/cluster-plugins.test.ts',
];
const POSTGRES = process.env.CONFAB_TEST_POSTGRES !== '0';

// uvu 0.5 ends a run with exactly this block (see node_modules/uvu/dist/index.mjs, exec()).
const SUMMARY = /^[ \t]*Total:[ \t]+(\d+)[ \t]*\r?\n[ \t]*Passed:[ \t]+(\d+)[ \t]*\r?\n[ \t]*Skipped:[ \t]+(\d+)[ \t]*\r?\n[ \t]*Duration:/gm;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The child currently running, so that Ctrl-C can take its process group down too. */
let current = null;

function positiveInt(value, fallback) {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** False while a child's last output to stdout ended in the middle of a line (uvu's "• • " progress). */
let atLineStart = true;

/** Prints a line of the runner's own, always at the start of a line. */
function out(line) {
  process.stdout.write((atLineStart ? '' : '\n') + line + '\n');
  atLineStart = true;
}

/** True when Debian's PostgreSQL server binaries are installed (what test/helpers/postgres.ts starts). */
function postgresInstalled() {
  const root = '/usr/lib/postgresql';
  return fs.existsSync(root) && fs.readdirSync(root).some((major) => fs.existsSync(path.join(root, major, 'bin', 'postgres')));
}

/** Every `*.test.ts` under dir, as sorted paths relative to ROOT with forward slashes. */
function findTestFiles(dir) {
  const found = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(path.relative(ROOT, full).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return found.sort();
}

/** Sends signal to the whole process group of pid; false when the group no longer exists. */
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * True while a process of group pgid is still running. On Linux a zombie does not count: where PID 1 reaps
 * orphans slowly (containers), a finished helper stays a zombie in the group for a while.
 */
function groupRunning(pgid) {
  if (!fs.existsSync('/proc/self/stat')) return killGroup(pgid, 0);
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** The last uvu summary in a file's stdout, or null when there is none. */
function parseSummary(stdout) {
  let last = null;
  for (const m of stdout.replace(ANSI, '').matchAll(SUMMARY)) {
    last = { total: Number(m[1]), passed: Number(m[2]), skipped: Number(m[3]) };
  }
  return last;
}

/**
 * Runs one test file to completion and reports what it printed and how it ended.
 * @returns {Promise<{ stdout: string, code: number | null, signal: string | null, timedOut: string | null, leftovers: boolean }>}
 */
function runFile(file, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout takes down whatever the test spawned too
    });
    current = child;
    let stdout = '';
    const decoder = new StringDecoder('utf8'); // a chunk may end inside uvu's multi-byte "•"
    let timedOut = null;
    let exit = null;
    let leftovers = false;
    let summarySeen = false;
    const timers = new Set();
    const later = (ms, fn) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const stop = (reason) => {
      if (timedOut || exit) return;
      timedOut = reason;
      killGroup(child.pid, 'SIGTERM');
      later(KILL_GRACE_MS, () => killGroup(child.pid, 'SIGKILL'));
    };

    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      if (chunk.length > 0) atLineStart = chunk[chunk.length - 1] === 0x0a;
      stdout += decoder.write(chunk);
      if (!summarySeen && parseSummary(stdout)) {
        summarySeen = true;
        later(EXIT_GRACE_MS, () =>
          stop(`its tests finished but the process was still running ${EXIT_GRACE_MS} ms after uvu's summary`),
        );
      }
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    later(TIMEOUT_MS, () => stop(`no exit within ${TIMEOUT_MS} ms (CONFAB_TEST_TIMEOUT_MS)`));

    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // A process the test started and did not end can hold our pipes open: 'close' would never come.
      later(CLOSE_GRACE_MS, () => {
        if (groupRunning(child.pid)) leftovers = true;
        killGroup(child.pid, 'SIGKILL');
        child.stdout.destroy();
        child.stderr.destroy();
      });
    });
    child.on('close', async () => {
      for (const t of timers) clearTimeout(t);
      // Helpers that end with their parent (tsx's esbuild service) need a moment; anything still in the group
      // after that was left behind by the test and could hold a port the next file wants, so it is ended here.
      const deadline = Date.now() + LEFTOVER_GRACE_MS;
      while (groupRunning(child.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      if (groupRunning(child.pid)) {
        leftovers = true;
        killGroup(child.pid, 'SIGKILL');
      }
      current = null;
      resolve({ stdout, code: exit?.code ?? null, signal: exit?.signal ?? null, timedOut, leftovers });
    });
    child.on('error', (err) => {
      // spawn itself failed (no node?): 'close' may never come.
      for (const t of timers) clearTimeout(t);
      current = null;
      process.stderr.write(`could not start ${file}: ${err.message}\n`);
      resolve({ stdout, code: null, signal: null, timedOut, leftovers });
    });
  });
}

/** Runs c8's report over the collected V8 coverage; prints the text summary and writes lcov + html to coverage/. */
function reportCoverage(tempDir) {
  if (!fs.existsSync(tempDir) || fs.readdirSync(tempDir).length === 0) {
    out('coverage: no V8 coverage data was written (no child exited normally)');
    return;
  }
  const reportsDir = path.join(ROOT, 'coverage');
  const c8 = path.join(ROOT, 'node_modules', 'c8', 'bin', 'c8.js');
  const result = spawnSync(
    process.execPath,
    [
      c8, 'report',
      '--temp-directory', tempDir,
      '--reports-dir', reportsDir,
      '--reporter=text-summary', '--reporter=lcov', '--reporter=html',
      '--src', '.', '--all=false',
      '--exclude', 'test/**', '--exclude', 'bench/**', '--exclude', 'node_modules/**',
      '--exclude', 'coverage/**', '--exclude', '**/*.d.ts',
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
  );
  if (result.stdout) process.stdout.write(result.stdout.endsWith('\n') ? result.stdout : result.stdout + '\n');
  if (result.stderr) process.stderr.write(result.stderr);
  if (result.status !== 0) {
    out(`coverage: c8 report failed (${result.error?.message ?? `exit ${result.status}`}); test results below are unaffected`);
    return;
  }
  // tsx hands Node inline source maps and c8 remaps through them; say so plainly if that stopped working.
  const lcov = path.join(reportsDir, 'lcov.info');
  const sources = fs.existsSync(lcov)
    ? fs.readFileSync(lcov, 'utf8').split('\n').filter((l) => l.startsWith('SF:')).map((l) => l.slice(3))
    : [];
  const ts = sources.filter((s) => s.endsWith('.ts'));
  if (sources.length > 0 && ts.length === 0) {
    out('coverage: WARNING no .ts source in the report: source maps were not applied; the numbers are of transpiled code');
  }
  out(`coverage: ${ts.length} .ts source files; lcov and html in coverage/ (open coverage/index.html)`);
}

async function main() {
  const filters = process.argv.slice(2);
  const all = TEST_DIRS.filter((dir) => fs.existsSync(dir)).flatMap(findTestFiles);
  const files = filters.length ? all.filter((f) => filters.some((s) => f.includes(s))) : all;

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];

  const covDir = COVERAGE ? fs.mkdtempSync(path.join(os.tmpdir(), 'confab-coverage-')) : null;
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  // The tests choose their store (SQLite, or the PostgreSQL pass's own): never the one of this shell.
  delete env.CONFAB_STORE_URL;
  if (covDir) env.NODE_V8_COVERAGE = covDir;

  if (files.length === 0) {
    out(filters.length ? `no test file under test/ matches: ${filters.join(', ')}` : 'no test files under test/');
  }

  const passes = [{ label: '', files, env }];
  const storeFiles = files.filter((file) => POSTGRES_PASS.includes(file));
  if (POSTGRES && storeFiles.length > 0) {
    if (postgresInstalled()) passes.push({ label: ' (postgres)', files: storeFiles, env: { ...env, CONFAB_TEST_STORE: 'postgres' } });
    else out('note: no PostgreSQL under /usr/lib/postgresql/<major>/bin: the store-touching tests did not run a second time against PostgreSQL (apt-get install postgresql)');
  }
  for (const pass of passes) {
    for (const file of pass.files) {
      out(`# ${file}${pass.label}`);
      const r = await runFile(file, pass.env);
      const summary = parseSummary(r.stdout);
      let fileFailed = 0;
      if (summary) {
        passed += summary.passed;
        skipped += summary.skipped;
        fileFailed += Math.max(0, summary.total - summary.passed);
      }
      if (summary && fileFailed > 0 && r.code === 0) {
        // uvu's runner returns from a `finally`, which swallows an error thrown by a suite's before() hook: the
        // suite's tests then count as not passed, with no FAIL block and exit code 0.
        out(`FAIL ${file}: ${fileFailed} test(s) did not pass but uvu printed no failure for them (did a before() hook throw?)`);
      }
      if (r.timedOut) {
        out(`TIMEOUT ${file} (a test left a handle open or hung): ${r.timedOut}`);
        if (!summary) {
          // uvu prints "• " (passed) or "✘ " (failed) as each test ends, so the count names the test that hung.
          const ended = (r.stdout.replace(ANSI, '').match(/[•✘] /g) ?? []).length;
          out(`  ${ended} test(s) had ended: the one that hung is test ${ended + 1} in the file's order (or a hook around it)`);
        }
        fileFailed += 1;
      } else if (r.signal) {
        out(`FAIL ${file}: the process was killed by ${r.signal}`);
        fileFailed += 1;
      } else if (!summary) {
        out(`FAIL ${file}: exited with code ${r.code} without a uvu summary (did it throw before the tests ran, or never call test.run()?)`);
        fileFailed += 1;
      } else if (r.code !== 0 && fileFailed === 0) {
        out(`FAIL ${file}: exited with code ${r.code} although all its tests passed (an error after the tests?)`);
        fileFailed += 1;
      }
      if (r.leftovers) out(`note: ${file} left processes running in its process group; they were killed`);
      if (fileFailed > 0) failures.push(`${file}${pass.label} (${fileFailed})`);
      failed += fileFailed;
    }
  }

  if (failures.length) {
    out('');
    out(`failed files: ${failures.join(', ')}`);
  }
  if (passed + failed === 0) out('no tests ran: that is a failure, not a pass');

  if (covDir) {
    out('');
    try {
      reportCoverage(covDir);
    } finally {
      fs.rmSync(covDir, { recursive: true, force: true });
    }
  }

  out(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exitCode = failed > 0 || passed + failed === 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // The child is in its own process group, so the terminal's Ctrl-C does not reach it: pass it on.
    if (current) killGroup(current.pid, 'SIGKILL');
    process.stderr.write(`\ninterrupted by ${signal}\n`);
    process.exit(130);
  });
}

main().catch((err) => {
  process.stderr.write(`test runner failed: ${err?.stack ?? err}\n`);
  out('0 passed, 1 failed');
  process.exitCode = 1;
});
