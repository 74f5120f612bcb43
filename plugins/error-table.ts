/**
 * docs/errors.md, generated: every error code Confab puts on the wire or throws, the core's (core/errors.ts)
 * and every plugin's in plugins/ (each declares its codes with `defineErrors` and gives them to
 * `definePlugin({ errors })`), with whether it ends the session and its default message. A test keeps the
 * file equal to what this prints:
 *
 *   npm run docs:errors     (node --import tsx plugins/error-table.ts > docs/errors.md)
 */
import { pathToFileURL } from 'node:url';
import { ERRORS, type PluginErrorSpec } from '../core/wire.js';
import type { Plugin } from '../core/types.js';
import { auth } from './auth/server.js';
import { handRaise } from './examples/hand-raise/server.js';
import { polls } from './examples/polls/server.js';
import { whiteboard } from './examples/whiteboard/server.js';
import { impairment } from './impairment/server.js';
import { builtinPlugins } from './index.js';
import { inspector } from './inspector/server.js';

/** Every plugin that ships in plugins/: the built-in ones, then auth, the lab tools and the examples. */
function shippedPlugins(): Plugin[] {
  return [...builtinPlugins(), auth(), inspector(), impairment({ seed: 1 }), polls(), handRaise(), whiteboard()];
}

/** The error codes of the core and of every shipped plugin, in that order. */
export function errorSpecs(): PluginErrorSpec[] {
  const core = Object.entries(ERRORS).map(([code, spec]) => ({ code, plugin: 'core', message: spec.message, fatal: spec.fatal }));
  return [...core, ...shippedPlugins().flatMap((plugin) => plugin.errors?.specs ?? [])];
}

/** docs/errors.md's text. */
export function errorTable(): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const rows = errorSpecs().map((spec) => `| \`${spec.code}\` | ${spec.plugin} | ${spec.fatal ? 'yes' : 'no'} | ${escape(spec.message)} |`);
  return [
    '# Error codes',
    '',
    'Every code Confab sends in an ERROR frame or throws, generated from the code by `plugins/error-table.ts`',
    '(`npm run docs:errors`; a test keeps this file true). A plugin declares',
    'its codes with `defineErrors` (core/errors.ts); `/metrics` counts each in `confab_errors_total{code}`.',
    '"Fatal" codes end the session; the others refuse one request and name it with `ref` when it had one.',
    '',
    '| code | from | fatal | default message |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

// Run as a script (`npm run docs:errors`): print the table.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.stdout.write(errorTable());
