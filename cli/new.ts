/**
 * `confab new plugin NAME`: scaffolds a plugin folder from the templates in cli/templates/plugin, on the
 * plugin API v2: the shared protocol (a typed channel, its parse function, defineErrors), a server half, a
 * client half, a client entry with a web panel, a README and a passing test, under plugins/NAME or --dir.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfabError } from '../core/errors.js';

export const usage = `Usage: confab new plugin NAME [options]

Creates a plugin folder you can build on: protocol.ts, server.ts, client.ts, entry.ts (a tab in the web
client), README.md and NAME.test.ts: a room counter that passes its tests. NAME is lowercase letters,
digits and "-", starting with a letter.

Options:
  --dir <folder>  where to create it (default plugins/NAME under the repository); must not exist or be empty
  -h, --help      show this help

Then: npx tsx plugins/NAME/NAME.test.ts (npm test runs it too), and add NAME() to plugins.config.ts:
its tab shows in the web client. docs/plugin-guide.md explains every part.
`;

/** The repository root: the core the generated files import lives here. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEMPLATES = join(ROOT, 'cli/templates/plugin');
/** The same rule as plugin names in core/config.ts, and short enough for identifiers and error codes. */
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 40;
/** Names that would collide with what the core or the repository already uses. */
const RESERVED = new Set(['core', 'index', 'examples', 'web', 'test', 'plugin', 'plugins']);

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (positionals[0] !== 'plugin' || positionals.length !== 2) {
    process.stderr.write('confab new: use confab new plugin NAME; run confab new --help\n');
    return 2;
  }
  const name = positionals[1]!;
  const problem = checkName(name);
  if (problem) {
    process.stderr.write(`confab new: ${problem}\n`);
    return 2;
  }
  const target = resolve(values.dir ?? join(ROOT, 'plugins', name));
  const files = scaffoldPlugin(name, target);
  const shown = relative(process.cwd(), target) || '.';
  process.stdout.write([
    `Created ${shown}${sep}: ${files.join(', ')}`,
    `Run its test:  npx tsx ${join(shown, `${name}.test.ts`)}`,
    `Enable it:     add ${camelCase(name)}() to the plugins list in plugins.config.ts; its tab shows in the web client`,
    '',
  ].join('\n'));
  return 0;
}

/** What is wrong with a plugin name, or undefined when it is fine. */
export function checkName(name: string): string | undefined {
  if (!NAME.test(name)) return `"${name}" is not a plugin name: lowercase letters and digits, words joined by single "-", starting with a letter (e.g. quiz or hand-signals)`;
  if (name.length > MAX_NAME_LENGTH) return `"${name}" is longer than ${MAX_NAME_LENGTH} characters`;
  if (RESERVED.has(name)) return `"${name}" is reserved; pick another name`;
  return undefined;
}

/**
 * Writes the plugin's files into `target` (created; it must not exist, or be empty) and returns their names.
 * Throws NEW_TARGET_EXISTS rather than overwrite anything.
 */
export function scaffoldPlugin(name: string, target: string): string[] {
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new ConfabError('NEW_TARGET_EXISTS', `${target} already exists and is not empty; nothing was written (pick another name or --dir)`);
  }
  const core = toImportPath(relative(target, join(ROOT, 'core')));
  const fromRoot = relative(ROOT, target);
  const inRepo = !fromRoot.startsWith('..');
  const values: Record<string, string> = {
    name,
    camel: camelCase(name),
    Pascal: camelCase(name).replace(/^./, (c) => c.toUpperCase()),
    CONST: name.toUpperCase().replaceAll('-', '_'),
    title: name.replace(/^./, (c) => c.toUpperCase()).replaceAll('-', ' '),
    core,
    testPath: inRepo ? join(fromRoot, `${name}.test.ts`).split(sep).join('/') : `${name}.test.ts`,
    configImport: `${toImportPath(fromRoot)}/server.js`,
  };
  const outputs: Record<string, string> = {
    'protocol.ts.tmpl': 'protocol.ts',
    'server.ts.tmpl': 'server.ts',
    'client.ts.tmpl': 'client.ts',
    'entry.ts.tmpl': 'entry.ts',
    'README.md.tmpl': 'README.md',
    'plugin.test.ts.tmpl': `${name}.test.ts`,
  };
  mkdirSync(target, { recursive: true });
  for (const [template, output] of Object.entries(outputs)) {
    const text = readFileSync(join(TEMPLATES, template), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key]!);
    writeFileSync(join(target, output), text, { flag: 'wx' });
  }
  return Object.values(outputs);
}

/** `hand-signals` → `handSignals`. */
function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A relative path as an ESM import specifier: forward slashes, starting with `./` or `../`. */
function toImportPath(path: string): string {
  const posix = path.split(sep).join('/');
  return posix.startsWith('.') ? posix : `./${posix}`;
}
