/**
 * The layers of core/ (docs/architecture.md, "Layers"): wire, server, client and testing. Every import of
 * every core/**\/*.ts file is read (type-only, re-exports and dynamic `import()` too, comments not), and a
 * layer that imports above itself fails the test, naming the file and the import:
 *
 *   wire     imports wire only            (core/wire.ts, the modules it re-exports, and media-crypto.ts)
 *   client   imports wire and client      (core/client/)
 *   server   imports wire and server      (every other core file: never client or testing)
 *   testing  imports anything             (core/testing.ts)
 *
 * And what a server loads never reaches the client SDK or the harness: neither core/index.ts nor any
 * plugin's server half (whatever plugins/index.ts and each plugin's server.ts import, directly or not).
 * core/wire.ts bundles for a browser.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

type Layer = 'wire' | 'server' | 'client' | 'testing';

/** The layers each layer may import. */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  wire: ['wire'],
  client: ['wire', 'client'],
  server: ['wire', 'server'],
  testing: ['wire', 'server', 'client', 'testing'],
};

/** Wire modules that need Node, so core/wire.ts (which browsers import) leaves them out. */
const NODE_ONLY_WIRE = ['core/media-crypto.ts'];

/** A source file: its path from the repository root (`core/room.ts`) and its text. */
type Sources = ReadonlyMap<string, string>;

/** The relative module specifiers a file imports or re-exports, from import statements only. */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName).filter((name) => name.startsWith('.'));
}

/** The file a relative specifier names (`./room.js` from core/session.ts is core/room.ts), or undefined. */
function resolveImport(from: string, specifier: string, sources: Sources): string | undefined {
  const target = join(dirname(from), specifier);
  const candidates = [target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), target, join(target, 'index.ts')];
  return candidates.find((candidate) => sources.has(candidate));
}

/** The wire layer: core/wire.ts, every core module it re-exports, and the Node-only wire modules. */
function wireModules(sources: Sources): Set<string> {
  const wire = new Set(['core/wire.ts', ...NODE_ONLY_WIRE.filter((file) => sources.has(file))]);
  for (const specifier of importsOf(sources.get('core/wire.ts') ?? '')) {
    const file = resolveImport('core/wire.ts', specifier, sources);
    if (file) wire.add(file);
  }
  return wire;
}

function layerOf(file: string, wire: ReadonlySet<string>): Layer {
  if (file === 'core/testing.ts') return 'testing';
  if (file.startsWith('core/client/')) return 'client';
  return wire.has(file) ? 'wire' : 'server';
}

/** Every import of a core file that crosses a layer the wrong way (or leaves core/), as one line each. */
function layerViolations(sources: Sources): string[] {
  const wire = wireModules(sources);
  const found: string[] = [];
  for (const [file, text] of sources) {
    if (!file.startsWith('core/')) continue;
    const layer = layerOf(file, wire);
    for (const specifier of importsOf(text)) {
      if (!join(dirname(file), specifier).startsWith('core/')) {
        found.push(`${file} (${layer}) imports '${specifier}', which is outside core/`);
        continue;
      }
      // A module that does not exist is the compiler's to report, not a layer's.
      const target = resolveImport(file, specifier, sources);
      if (target === undefined) continue;
      const targetLayer = layerOf(target, wire);
      if (!ALLOWED[layer].includes(targetLayer)) found.push(`${file} (${layer}) imports '${specifier}' (${target}, ${targetLayer})`);
    }
  }
  return found;
}

/**
 * Every chain of imports from one of `entries` to core/client/ or core/testing.ts, as
 * `plugins/x/server.ts → plugins/x/util.ts → core/client/types.ts`; one chain per forbidden file reached.
 */
function reachesClientOrTesting(entries: readonly string[], sources: Sources): string[] {
  const forbidden = (file: string) => file.startsWith('core/client/') || file === 'core/testing.ts';
  const found: string[] = [];
  for (const entry of entries) {
    const via = new Map<string, string | undefined>([[entry, undefined]]);
    const queue = [entry];
    while (queue.length > 0) {
      const file = queue.shift()!;
      if (forbidden(file)) {
        const chain = [file];
        for (let step = via.get(file); step !== undefined; step = via.get(step)) chain.unshift(step);
        found.push(chain.join(' → '));
        continue;
      }
      for (const specifier of importsOf(sources.get(file) ?? '')) {
        const target = resolveImport(file, specifier, sources);
        if (target === undefined || via.has(target)) continue;
        via.set(target, file);
        queue.push(target);
      }
    }
  }
  return found;
}

/** Every .ts file under `dir` (from the repository root), with its text. */
function readTree(dir: string, into = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) readTree(path, into);
    else if (/\.tsx?$/.test(entry.name)) into.set(path, readFileSync(join(ROOT, path), 'utf8'));
  }
  return into;
}

/** Every plugin's server entry: plugins/<name>/server.ts and plugins/examples/<name>/server.ts. */
function pluginServerEntries(sources: Sources): string[] {
  return [...sources.keys()].filter((file) => /^plugins\/(examples\/)?[^/]+\/server\.ts$/.test(file)).sort();
}

const sources = readTree('plugins', readTree('core'));

test('the checker names the file and the import when a layer imports above itself, and follows chains from a server half', () => {
  const fake = new Map([
    ['core/wire.ts', "export * from './frame.js';\nexport * from './protocol.js';"],
    ['core/protocol.ts', '/** Not an import: `import x from "./room.js"` */ export const A = 1;'],
    ['core/frame.ts', "import type { Room } from './room.js';\nimport { A } from './protocol.js';"],
    ['core/room.ts', "import { ConfabClient } from './client/node.js';\nconst later = () => import('./testing.js');\nimport '../plugins/x/server.js';"],
    ['core/client/node.ts', "import { A } from '../protocol.js';\nimport type { Session } from '../session.js';"],
    ['core/session.ts', ''],
    ['core/testing.ts', "import './client/node.js';\nimport './room.js';"],
    ['plugins/x/server.ts', "import { helper } from './util.js';"],
    ['plugins/x/util.ts', "import type { ClientPlugin } from '../../core/client/node.js';"],
  ]);
  assert.equal(layerViolations(fake), [
    "core/frame.ts (wire) imports './room.js' (core/room.ts, server)",
    "core/room.ts (server) imports './client/node.js' (core/client/node.ts, client)",
    "core/room.ts (server) imports './testing.js' (core/testing.ts, testing)",
    "core/room.ts (server) imports '../plugins/x/server.js', which is outside core/",
    "core/client/node.ts (client) imports '../session.js' (core/session.ts, server)",
  ]);
  assert.equal(reachesClientOrTesting(['plugins/x/server.ts'], fake), ['plugins/x/server.ts → plugins/x/util.ts → core/client/node.ts']);
});

test('every core module imports only its own layer and those below: wire ← client, wire ← server, anything ← testing', () => {
  assert.ok(sources.has('core/wire.ts'), 'core/wire.ts, the wire entry point, exists');
  assert.ok(wireModules(sources).size > 5, 'core/wire.ts re-exports the wire modules');
  const violations = layerViolations(sources);
  assert.equal(violations, [], `imports crossing a layer the wrong way:\n  ${violations.join('\n  ')}`);
});

test('the server entry (core/index.ts) and every plugin\'s server half reach neither core/client/ nor core/testing.ts', () => {
  const entries = ['core/index.ts', 'plugins/index.ts', ...pluginServerEntries(sources)];
  assert.ok(entries.length > 10, `found the plugins' server halves: ${entries.join(', ')}`);
  for (const entry of entries) assert.ok(existsSync(join(ROOT, entry)), entry);
  const chains = reachesClientOrTesting(entries, sources);
  assert.equal(chains, [], `server code that loads the client SDK or the harness:\n  ${chains.join('\n  ')}`);
});

test('core/wire.ts bundles for a browser: nothing it re-exports needs Node', async () => {
  const result = await build({ entryPoints: [join(ROOT, 'core/wire.ts')], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
  assert.is(result.errors.length, 0);
  assert.ok(result.outputFiles[0]!.contents.length > 0);
});

test('each layer has its entry point: core/wire.ts, core/index.ts, core/client/node.ts and browser.ts, core/testing.ts', () => {
  for (const entry of ['core/wire.ts', 'core/index.ts', 'core/client/node.ts', 'core/client/browser.ts', 'core/testing.ts']) {
    assert.ok(sources.has(entry), entry);
  }
});

test.run();
