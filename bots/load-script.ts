/**
 * Loads a bot script for `confab bot run`, the way the server loads plugins.config.ts (core/config-loader.ts):
 * bundle it with esbuild (npm packages stay external), import the bundle, delete it, and check that the
 * default export is a `defineBot(…)`.
 *
 * A script imports the runtime either relatively (`../runtime.js`, as bots/examples do) or as `confab/bot`,
 * which is aliased to bots/runtime.ts so that a script anywhere on disk can use it. The bundle is written
 * under Confab's node_modules/.cache, so the packages the runtime needs (canvas, fluent-ffmpeg…) resolve
 * from Confab's own node_modules, wherever the script lives.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildFailure } from 'esbuild';
import { ConfabError, isConfabError } from '../core/errors.js';
import { isBotDefinition, type BotDefinition } from './runtime.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RUNTIME = join(ROOT, 'bots', 'runtime.ts');
const CACHE = join(ROOT, 'node_modules', '.cache', 'confab-bots');

/**
 * Compiles and imports a bot script; resolves with its `defineBot` definition.
 *
 * @throws ConfabError BOT_SCRIPT_INVALID when the file is missing, does not compile, throws while loading, or
 *   its default export is not a `defineBot(…)`.
 * @example
 *   const bot = await loadBotScript('bots/examples/greeter.ts');
 *   await runBot(bot, { server: '127.0.0.1:5000', room: 'lab', name: 'greeter' });
 */
export async function loadBotScript(path: string): Promise<BotDefinition> {
  const file = resolve(process.cwd(), path);
  if (!existsSync(file)) throw new ConfabError('BOT_SCRIPT_INVALID', `no bot script at ${file}`);
  let code: string;
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node}`,
      packages: 'external',
      alias: { 'confab/bot': RUNTIME },
      write: false,
      logLevel: 'silent',
      sourcemap: 'inline',
    });
    code = result.outputFiles[0]!.text;
  } catch (error) {
    const errors = (error as Partial<BuildFailure>).errors ?? [];
    const text = errors
      .map((m) => (m.location ? `  ${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}\n    ${m.location.lineText}` : `  ${m.text}`))
      .join('\n');
    throw new ConfabError('BOT_SCRIPT_INVALID', `${file} does not compile:\n${text || String(error)}`, { cause: error });
  }
  mkdirSync(CACHE, { recursive: true });
  const temp = join(CACHE, `bot-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}.mjs`);
  let module: Record<string, unknown>;
  try {
    await writeFile(temp, code);
    module = (await import(pathToFileURL(temp).href)) as Record<string, unknown>;
  } catch (error) {
    if (isConfabError(error)) throw error;
    throw new ConfabError('BOT_SCRIPT_INVALID', `${file} threw while loading: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await unlink(temp).catch(() => {});
  }
  if (!isBotDefinition(module.default)) {
    throw new ConfabError('BOT_SCRIPT_INVALID', `${file} must end with: export default defineBot(async (bot) => { … }) (import { defineBot } from 'confab/bot')`);
  }
  return module.default;
}
