import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfigFile } from '../../core/config-loader.js';
import { isConfabError } from '../../core/errors.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Config files in a temp dir import the project's core by absolute path, as a config elsewhere on disk would.
const CONFIG_TS = JSON.stringify(join(ROOT, 'core/config.js'));
const OPTIONS_TS = JSON.stringify(join(ROOT, 'core/options.js'));

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-config-loader-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** The bundles loadConfigFile wrote next to the configs and did not remove. */
function leftovers(): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else if (entry.name.includes('.timestamp-')) found.push(entry.name);
    }
  };
  walk(dir);
  return found;
}

/** Awaits the load, expecting a ConfabError with `code`; returns its message. */
async function failure(load: Promise<unknown>, code: string): Promise<string> {
  try {
    await load;
  } catch (error) {
    assert.ok(isConfabError(error), `expected a ConfabError, got ${String(error)}`);
    assert.is(error.code, code, error.message);
    assert.equal(leftovers(), [], 'the temporary bundle was removed');
    return error.message;
  }
  assert.unreachable(`expected ${code}`);
  return '';
}

const VALID = `
import { defineConfig, definePlugin } from ${CONFIG_TS};
import { jsonChannel } from ${JSON.stringify(join(ROOT, 'core/channel-def.js'))};
import type { Plugin } from ${JSON.stringify(join(ROOT, 'core/types.js'))};
import { where } from './lib/where.js';

const greeter: Plugin = definePlugin({
  name: 'greeter',
  channels: [jsonChannel('greet', { parse: (message) => message })],
  setup() {},
});

export default defineConfig({
  server: { port: 0, logLevel: 'silent' as const },
  plugins: [greeter, { ...definePlugin({ name: 'where', setup() {} }), where } as Plugin],
});
`;
const WHERE = `export const where: { url: string; dirname: string; filename: string } = {
  url: import.meta.url, dirname: import.meta.dirname, filename: __filename,
};
`;

test('loadConfigFile() bundles a TS config and returns its path, config and dependencies', async () => {
  const file = write('plugins.config.ts', VALID);
  const where = write('lib/where.ts', WHERE);
  const loaded = await loadConfigFile(file);
  assert.is(loaded.path, file);
  assert.equal(loaded.config.server, { port: 0, logLevel: 'silent' });
  assert.equal(loaded.config.plugins?.map((plugin) => plugin.name), ['greeter', 'where']);
  assert.equal(loaded.config.plugins?.[0]?.channels?.map((channel) => [channel.name, channel.kind]), [['greet', 'json']]);
  assert.ok(loaded.dependencies.includes(file), 'the config itself');
  assert.ok(loaded.dependencies.includes(where), 'a local import');
  assert.ok(loaded.dependencies.includes(join(ROOT, 'core/config.ts')), 'the core, bundled by absolute path');
  assert.equal(leftovers(), []);
});

test('loadConfigFile() gives each bundled file its own import.meta.url, dirname and filename', async () => {
  const file = write('plugins.config.ts', VALID);
  const where = write('lib/where.ts', WHERE);
  const { config } = await loadConfigFile(file);
  const seen = (config.plugins?.[1] as unknown as { where: Record<string, string> }).where;
  assert.equal(seen, { url: pathToFileURL(where).href, dirname: dirname(where), filename: where });
});

test('loadConfigFile() with no path loads plugins.config.ts from the working directory', async () => {
  write('plugins.config.ts', `export default { server: { port: 0 } };`);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const loaded = await loadConfigFile();
    assert.is(loaded.path, join(dir, 'plugins.config.ts'));
    assert.equal(loaded.config, { server: { port: 0 } });
  } finally {
    process.chdir(cwd);
  }
});

test('loadConfigFile() of a missing file fails with CONFIG_LOAD_FAILED naming the path', async () => {
  const file = join(dir, 'nope.config.ts');
  const message = await failure(loadConfigFile(file), 'CONFIG_LOAD_FAILED');
  assert.ok(message.includes(file), message);
});

test('loadConfigFile() of a syntax error fails with CONFIG_LOAD_FAILED giving file:line:column', async () => {
  const file = write('plugins.config.ts', `import { defineConfig } from ${CONFIG_TS};\nexport default defineConfig({ plugins: [ });\n`);
  const message = await failure(loadConfigFile(file), 'CONFIG_LOAD_FAILED');
  assert.match(message, /plugins\.config\.ts:2:\d+: error: /);
});

test('loadConfigFile() of an unresolvable local import fails with CONFIG_LOAD_FAILED', async () => {
  const file = write('plugins.config.ts', `import { x } from './missing.js';\nexport default { plugins: x };\n`);
  await failure(loadConfigFile(file), 'CONFIG_LOAD_FAILED');
});

test('loadConfigFile() of a config that throws fails with CONFIG_LOAD_FAILED and removes the bundle', async () => {
  const file = write('plugins.config.ts', `throw new Error('boom');\nexport default {};\n`);
  const message = await failure(loadConfigFile(file), 'CONFIG_LOAD_FAILED');
  assert.ok(message.includes('boom'), message);
});

test('loadConfigFile() keeps the code of a ConfabError thrown by the config (a plugin option check)', async () => {
  const file = write(
    'plugins.config.ts',
    `import { readOptions } from ${OPTIONS_TS};
const chat = (options: unknown) => readOptions('chat', options, { historyLimit: { type: 'integer', min: 0, default: 100 } });
chat({ historyLimit: -1 });
export default {};
`,
  );
  await failure(loadConfigFile(file), 'CONFIG_INVALID');
});

test('loadConfigFile() of a config without a default export fails with CONFIG_LOAD_FAILED', async () => {
  const file = write('plugins.config.ts', `export const config = { server: {} };\n`);
  await failure(loadConfigFile(file), 'CONFIG_LOAD_FAILED');
});

test('loadConfigFile() of a default export that is not an object fails with CONFIG_LOAD_FAILED', async () => {
  await failure(loadConfigFile(write('a.config.ts', `export default () => ({});\n`)), 'CONFIG_LOAD_FAILED');
  await failure(loadConfigFile(write('b.config.ts', `export default [];\n`)), 'CONFIG_LOAD_FAILED');
  await failure(loadConfigFile(write('c.config.ts', `export default null;\n`)), 'CONFIG_LOAD_FAILED');
});

test('loadConfigFile() of a wrong server option fails with CONFIG_INVALID', async () => {
  const file = write('plugins.config.ts', `import { defineConfig } from ${CONFIG_TS};\nexport default defineConfig({ server: { prot: 5000 } as never });\n`);
  await failure(loadConfigFile(file), 'CONFIG_INVALID');
});

test('loadConfigFile() of an invalid plugin fails with PLUGIN_INVALID', async () => {
  const file = write('plugins.config.ts', `export default { plugins: [{ name: 'chat', channels: { chat: { kind: 'text' } }, setup() {} }] };\n`);
  await failure(loadConfigFile(file), 'PLUGIN_INVALID');
});

test.run();
