/**
 * Loads `plugins.config.ts` the way Vite loads vite.config.ts: bundle it with esbuild (packages stay
 * external), write the bundle next to the config, import it, delete it, and check what it exported. When
 * the config's directory is not writable (a config owned by another user), the bundle goes to a private
 * temporary directory whose `node_modules` links to the one the config would have used.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildFailure, type Message, type Plugin as EsbuildPlugin } from 'esbuild';
import { validateConfig } from './config.js';
import { ConfabError, isConfabError } from './errors.js';
import { describeValue } from './options.js';
import type { ConfabConfig } from './types.js';

/** The file name looked for in the working directory when no path is given. */
export const DEFAULT_CONFIG_FILE = 'plugins.config.ts';

/** A loaded, checked config. */
export interface LoadedConfig {
  /** Absolute path of the config file. */
  path: string;
  /** The default export, checked with `validateConfig` (server options not yet resolved). */
  config: ConfabConfig;
  /** Absolute paths of every local file bundled into the config (the config itself included). */
  dependencies: string[];
}

/**
 * Loads and checks a config file (default `./plugins.config.ts`).
 *
 * Throws CONFIG_LOAD_FAILED when the file is missing, does not compile, throws while it runs or has no
 * object default export; CONFIG_INVALID or PLUGIN_INVALID when what it exports is wrong; and a
 * ConfabError thrown by the config itself (a plugin factory's `readOptions`) keeps its code.
 *
 * @example
 *   const { path, config, dependencies } = await loadConfigFile();
 *   const server = await createServer(config);
 */
export async function loadConfigFile(path: string = DEFAULT_CONFIG_FILE): Promise<LoadedConfig> {
  const file = resolve(process.cwd(), path);
  if (!existsSync(file)) {
    throw new ConfabError(
      'CONFIG_LOAD_FAILED',
      `no config file at ${file}; create one with: export default defineConfig({ server: {}, plugins: [] }) ` +
        `(defineConfig from confab's core/config.ts)`,
    );
  }
  const { code, dependencies } = await bundleConfigFile(file);
  const module = await importBundle(file, code);
  if (!module || !('default' in module)) {
    throw new ConfabError(
      'CONFIG_LOAD_FAILED',
      `${file} has no default export; end it with: export default defineConfig({ server: {...}, plugins: [...] })`,
    );
  }
  const config: unknown = module.default;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfabError(
      'CONFIG_LOAD_FAILED',
      `the default export of ${file} must be a config object, got ${describeValue(config)}; ` +
        'use export default defineConfig({ server: {...}, plugins: [...] })',
    );
  }
  return { path: file, config: validateConfig(config), dependencies };
}

// Names the bundled code reads instead of `import.meta.url`, `__dirname`, …: each bundled file gets its own
// values, so a plugin that finds its files through import.meta.url still finds them from the bundle.
const DIRNAME = '__confab_injected_dirname';
const FILENAME = '__confab_injected_filename';
const IMPORT_META_URL = '__confab_injected_import_meta_url';

const injectFileScope: EsbuildPlugin = {
  name: 'confab:inject-file-scope',
  setup(esbuild) {
    esbuild.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      const contents = await readFile(args.path, 'utf8');
      return { loader: /ts$/.test(args.path) ? 'ts' : 'js', contents: fileScopePrefix(args.path) + contents };
    });
  },
};

/** Prepended on the file's first line, so that line numbers stay right (columns of line 1 are mapped back). */
function fileScopePrefix(file: string): string {
  return (
    `const ${DIRNAME} = ${JSON.stringify(dirname(file))};` +
    `const ${FILENAME} = ${JSON.stringify(file)};` +
    `const ${IMPORT_META_URL} = ${JSON.stringify(pathToFileURL(file).href)};`
  );
}

async function bundleConfigFile(file: string): Promise<{ code: string; dependencies: string[] }> {
  const workingDir = dirname(file);
  try {
    const result = await build({
      absWorkingDir: workingDir,
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node}`,
      packages: 'external',
      metafile: true,
      write: false,
      logLevel: 'silent',
      sourcemap: 'inline',
      define: {
        __dirname: DIRNAME,
        __filename: FILENAME,
        'import.meta.url': IMPORT_META_URL,
        'import.meta.dirname': DIRNAME,
        'import.meta.filename': FILENAME,
      },
      plugins: [injectFileScope],
    });
    const output = result.outputFiles[0];
    if (!output) throw new Error('esbuild produced no output');
    const dependencies = Object.keys(result.metafile.inputs).map((input) => resolve(workingDir, input));
    return { code: output.text, dependencies };
  } catch (error) {
    const errors = (error as Partial<BuildFailure>).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const text = errors.map((message) => formatMessage(message, workingDir)).join('\n');
      throw new ConfabError('CONFIG_LOAD_FAILED', `${file} does not compile:\n${text}`, {
        cause: error,
      });
    }
    throw new ConfabError('CONFIG_LOAD_FAILED', `cannot bundle ${file}: ${reason(error)}`, { cause: error });
  }
}

/** `plugins.config.ts:3:14: error: Expected "}" but found ")"` followed by the source line. */
function formatMessage(message: Message, workingDir: string): string {
  const location = message.location;
  if (!location) return `  error: ${message.text}`;
  let { column, lineText } = location;
  const prefix = fileScopePrefix(resolve(workingDir, location.file));
  if (location.line === 1 && lineText.startsWith(prefix)) {
    column = Math.max(0, column - prefix.length);
    lineText = lineText.slice(prefix.length);
  }
  return `  ${location.file}:${location.line}:${column + 1}: error: ${message.text}\n    ${lineText}`;
}

/** Errors that say a directory may not be written to. */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Writes the bundle beside the config (so that its packages resolve from the same node_modules), or in a
 * temporary directory when that is not allowed; imports it and always deletes it.
 */
async function importBundle(file: string, code: string): Promise<Record<string, unknown>> {
  const name = `${basename(file)}.timestamp-${Date.now()}-${Math.random().toString(16).slice(2, 8)}.mjs`;
  let temp = resolve(dirname(file), name);
  let tempDir: string | undefined;
  try {
    try {
      await writeFile(temp, code);
    } catch (error) {
      if (!NOT_WRITABLE.has((error as NodeJS.ErrnoException).code ?? '')) {
        throw new ConfabError('CONFIG_LOAD_FAILED', `cannot write the bundled config next to ${file}: ${reason(error)}`, { cause: error });
      }
      try {
        tempDir = await mkdtemp(join(tmpdir(), 'confab-config-'));
        temp = join(tempDir, name);
        await symlink(modulesFor(dirname(file)), join(tempDir, 'node_modules'), 'dir');
        await writeFile(temp, code);
      } catch (fallbackError) {
        const message = `cannot write the bundled config next to ${file} (${reason(error)}) nor in ${tmpdir()} (${reason(fallbackError)})`;
        throw new ConfabError('CONFIG_LOAD_FAILED', message, { cause: fallbackError });
      }
    }
    try {
      return (await import(pathToFileURL(temp).href)) as Record<string, unknown>;
    } catch (error) {
      // The bundle carries its own copy of the core, so a ConfabError from it is recognised by shape.
      if (isConfabError(error)) throw new ConfabError(error.code, error.message, { fatal: error.fatal, cause: error });
      throw new ConfabError('CONFIG_LOAD_FAILED', `${file} threw while loading: ${reason(error)}`, { cause: error });
    }
  } finally {
    await unlink(temp).catch(() => {});
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

/** The node_modules a file in `dir` resolves packages from: the nearest above it, else confab's own. */
function modulesFor(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules'))) return join(at, 'node_modules');
    if (dirname(at) === at) return fileURLToPath(new URL('../node_modules', import.meta.url));
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
