/**
 * The package version, read once from package.json.
 */
import { createRequire } from 'node:module';

/** Confab's version, e.g. `0.1.0`. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
