/**
 * Where the store lives: a SQLite file (the default, `<dataDir>/confab.db`) or a PostgreSQL database named by
 * a `postgres://` or `postgresql://` URL. Credentials in a URL are never shown: `redactStoreUrl` puts `***`
 * in place of the password wherever the URL is logged, reported or put in an error.
 */
import { isAbsolute, join, resolve } from 'node:path';

/** The SQL dialects of the store. */
export type StoreDialect = 'sqlite' | 'postgres';

/** A store location, parsed. */
export type StoreLocation =
  | { readonly dialect: 'sqlite'; readonly path: string; readonly display: string }
  | { readonly dialect: 'postgres'; readonly url: string; readonly display: string };

/** The environment variable that names the store when the configuration does not. */
export const STORE_URL_ENV = 'CONFAB_STORE_URL';

/**
 * Parses a store location: `postgres://…`/`postgresql://…` is PostgreSQL; `sqlite:<path>` or a plain path
 * is a SQLite file (relative to `dataDir`); empty or undefined is `<dataDir>/confab.db`. `display` is the
 * location with its password redacted.
 *
 * @example
 *   parseStoreUrl('postgres://confab:s3cret@db.lan/confab', '/var/lib/confab').display;
 *   // 'postgres://confab:***@db.lan/confab'
 */
export function parseStoreUrl(url: string | undefined, dataDir: string): StoreLocation {
  const value = url?.trim() ?? '';
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', url: value, display: redactStoreUrl(value) };
  const given = value.replace(/^sqlite:(\/\/)?/i, '');
  const path = given === '' ? join(dataDir, 'confab.db') : isAbsolute(given) ? given : resolve(dataDir, given);
  return { dialect: 'sqlite', path, display: path };
}

/**
 * The URL with its password (and a `password=` query parameter) replaced by `***`; anything that is not a
 * URL comes back as it is.
 *
 * @example
 *   redactStoreUrl('postgresql://u:pw@127.0.0.1:5432/db?sslmode=require'); // 'postgresql://u:***@127.0.0.1:5432/db?sslmode=require'
 */
export function redactStoreUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Every occurrence of the URL's password in `text` replaced by `***` (for driver messages that quote it). */
export function redactPassword(text: string, url: string): string {
  let password: string | undefined;
  try {
    password = decodeURIComponent(new URL(url).password) || new URL(url).searchParams.get('password') || undefined;
  } catch {
    password = undefined;
  }
  return password ? text.split(password).join('***') : text;
}
