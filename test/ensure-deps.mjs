#!/usr/bin/env node
/**
 * `npm pretest`: makes sure node_modules matches package-lock.json and that the native addons load, so a test
 * run fails here with the fix spelled out instead of 40 files later with a confusing stack.
 *
 * 1. node_modules is current when node_modules/.package-lock.json (npm's record of what it installed) exists
 *    and is not older than package-lock.json. When it is older, the two are compared: every non-optional
 *    package of the lock must be installed at its locked version (a `git checkout` touches the file without
 *    changing it). Otherwise `npm ci` runs.
 * 2. better-sqlite3 and canvas are built from source here; each is loaded and used once. When one fails, the
 *    Debian packages their build and runtime need are listed (the ones not installed, when dpkg can tell) and
 *    the script exits 1.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCK = path.join(ROOT, 'package-lock.json');
const INSTALLED = path.join(ROOT, 'node_modules', '.package-lock.json');

/** What the native addons (and the bots' ffmpeg) need on Debian. Keep in step with APT_PACKAGES in .ci/run. */
const DEBIAN_PACKAGES = [
  'libcairo2-dev', 'libpango1.0-dev', 'libjpeg-dev', 'libgif-dev', 'librsvg2-dev',
  'build-essential', 'pkg-config', 'python3', 'ffmpeg',
];

/** Why node_modules is not current, or null when it is. */
function staleReason() {
  if (!fs.existsSync(path.join(ROOT, 'node_modules'))) return 'node_modules/ does not exist';
  if (!fs.existsSync(INSTALLED)) return 'node_modules/.package-lock.json does not exist (npm did not finish an install)';
  if (!fs.existsSync(LOCK)) return null; // nothing to compare with; npm ci would refuse too
  if (fs.statSync(INSTALLED).mtimeMs >= fs.statSync(LOCK).mtimeMs) return null;
  let lock, installed;
  try {
    lock = JSON.parse(fs.readFileSync(LOCK, 'utf8'));
    installed = JSON.parse(fs.readFileSync(INSTALLED, 'utf8'));
  } catch (err) {
    return `cannot read the lockfiles: ${err.message}`;
  }
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === '' || entry.optional || entry.link) continue; // optional ones may be absent (ffmpeg-static)
    const have = installed.packages?.[key];
    if (!have) return `package-lock.json is newer than node_modules, which lacks ${key}`;
    if (have.version !== entry.version) {
      return `package-lock.json is newer than node_modules: ${key} is ${have.version}, locked at ${entry.version}`;
    }
  }
  return null;
}

/** Loads and exercises each native addon; returns the failures as [name, message]. */
function brokenAddons() {
  const require = createRequire(path.join(ROOT, 'package.json'));
  const checks = {
    // better-sqlite3 loads its .node file only when a database is opened.
    'better-sqlite3': () => {
      const Database = require('better-sqlite3');
      const db = new Database(':memory:');
      db.prepare('select 1').get();
      db.close();
    },
    canvas: () => {
      const { createCanvas } = require('canvas');
      createCanvas(2, 2).getContext('2d').fillRect(0, 0, 1, 1);
    },
  };
  const broken = [];
  for (const [name, check] of Object.entries(checks)) {
    try {
      check();
    } catch (err) {
      broken.push([name, String(err?.message ?? err).split('\n')[0]]);
    }
  }
  return broken;
}

/** The Debian packages of the list that are not installed, or null when dpkg cannot tell (not Debian). */
function missingDebianPackages() {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...DEBIAN_PACKAGES], {
    encoding: 'utf8',
  });
  if (result.error) return null;
  const installed = new Set(
    result.stdout.split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0]),
  );
  // dpkg reports some packages under their architecture-qualified or virtual name; compare the base names.
  return DEBIAN_PACKAGES.filter((p) => ![...installed].some((i) => i === p || i.split(':')[0] === p));
}

/** Where a program is on PATH, or undefined. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** Programs the tests run (Chromium where CHROMIUM_PATH says, else Debian's), and the Debian package of each. Keep in step with APT_PACKAGES in .ci/run. */
const TEST_PROGRAMS = [
  { name: 'chromium', found: () => fs.existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'), pkg: 'chromium' },
  { name: 'ffmpeg', found: () => Boolean(process.env.FFMPEG_PATH ?? onPath('ffmpeg')), pkg: 'ffmpeg' },
  { name: 'tmux', found: () => Boolean(onPath('tmux')), pkg: 'tmux' },
  { name: 'redis-server', found: () => fs.existsSync('/usr/bin/redis-server') || Boolean(onPath('redis-server')), pkg: 'redis-server' },
  // Debian keeps PostgreSQL's server programs under /usr/lib/postgresql/<major>/bin, off PATH.
  {
    name: 'PostgreSQL',
    found: () => fs.existsSync('/usr/lib/postgresql') && fs.readdirSync('/usr/lib/postgresql').some((major) => fs.existsSync(path.join('/usr/lib/postgresql', major, 'bin', 'initdb'))),
    pkg: 'postgresql',
  },
  // Debian's python3 (not a pyenv one on PATH) is where the Debian package installs the parser.
  {
    name: 'the Prometheus parser for Python',
    found: () => spawnSync(fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', 'import prometheus_client']).status === 0,
    pkg: 'python3-prometheus-client',
  },
];
/** Installed with chromium so pages render text. */
const TEST_EXTRA_PACKAGES = ['fonts-dejavu-core'];

/**
 * Installs the Debian packages of the programs the tests need when they are missing: as root with apt-get
 * (CI, a fresh machine), else it says what to run. Returns false when something is still missing.
 */
function ensureTestPrograms() {
  const missing = TEST_PROGRAMS.filter((program) => !program.found());
  if (missing.length === 0) return true;
  const packages = [...missing.map((program) => program.pkg), ...TEST_EXTRA_PACKAGES];
  const command = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) {
    console.error(`pretest: the tests need ${missing.map((p) => p.name).join(' and ')}. On Debian: sudo ${command}`);
    console.error('pretest: elsewhere, install them and set CHROMIUM_PATH (and FFMPEG_PATH if ffmpeg is not on PATH)');
    return false;
  }
  console.log(`pretest: installing what the tests need: ${command}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      console.error(`pretest: apt-get ${args[0]} failed (exit ${result.status})`);
      return false;
    }
  }
  return TEST_PROGRAMS.every((program) => program.found());
}

let failed = !ensureTestPrograms();
const reason = staleReason();
if (reason) {
  console.log(`pretest: ${reason}; running npm ci`);
  const ci = spawnSync('npm', ['ci'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (ci.status !== 0) {
    console.error(`pretest: npm ci failed (${ci.error?.message ?? `exit ${ci.status}`})`);
    failed = true;
  }
}

const broken = brokenAddons();
if (broken.length) {
  for (const [name, message] of broken) console.error(`pretest: the native addon ${name} does not load: ${message}`);
  const missing = missingDebianPackages();
  if (missing === null) {
    console.error('pretest: on Debian/Ubuntu it needs: apt-get install -y ' + DEBIAN_PACKAGES.join(' '));
    console.error('pretest: on macOS: brew install pkg-config cairo pango libpng jpeg giflib librsvg ffmpeg');
  } else if (missing.length) {
    console.error(`pretest: missing Debian packages: ${missing.join(' ')}`);
    console.error('pretest: apt-get install -y ' + DEBIAN_PACKAGES.join(' '));
  } else {
    console.error('pretest: the Debian packages it needs are installed; the addon was probably built before they were');
  }
  console.error(`pretest: then rebuild: npm rebuild ${broken.map(([n]) => n).join(' ')}   (or: rm -rf node_modules && npm ci)`);
  failed = true;
}

if (failed) process.exit(1);
