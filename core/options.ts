/**
 * Option checking shared by the server's options and plugin factories: a small schema (type, range,
 * default), one wording for every error, and "did you mean …?" for a misspelt name.
 */
import { ConfabError } from './errors.js';

/** A numeric option: `integer` or any finite `number`, optionally bounded (inclusive). */
export interface NumberOptionSpec {
  type: 'integer' | 'number';
  min?: number;
  max?: number;
  default?: number;
}

/** A string option, optionally one of fixed `values` or required to be non-empty. */
export interface StringOptionSpec {
  type: 'string';
  values?: readonly string[];
  nonEmpty?: boolean;
  default?: string;
}

/** A boolean option. */
export interface BooleanOptionSpec {
  type: 'boolean';
  default?: boolean;
}

/** How one option is checked. An option without a `default` is `undefined` when not given. */
export type OptionSpec = NumberOptionSpec | StringOptionSpec | BooleanOptionSpec;

/** Option name → how it is checked. */
export type OptionsSchema = Record<string, OptionSpec>;

/** The value type one spec gives: `number`, `boolean`, `string` or the union of its `values`. */
export type OptionValue<S extends OptionSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'string' }
    ? S extends { values: readonly (infer V)[] }
      ? V
      : string
    : number;

/** The object `readOptions` returns for a schema: every option with a default is always there. */
export type OptionsOf<S extends OptionsSchema> = {
  [K in keyof S]: S[K] extends { default: unknown } ? OptionValue<S[K]> : OptionValue<S[K]> | undefined;
};

/**
 * Reads a plugin's options against a schema: fills defaults, rejects unknown names and wrong values with
 * a CONFIG_INVALID error naming the plugin and the option. Plugin factories call it when they are called,
 * so a wrong option fails while the config loads, before the server listens.
 *
 * @example
 *   export function chat(options: ChatOptions = {}): Plugin {
 *     const { historyLimit, maxTextLength } = readOptions('chat', options, {
 *       historyLimit: { type: 'integer', min: 0, default: 200 },
 *       maxTextLength: { type: 'integer', min: 1, max: 65536, default: 4000 },
 *     });
 *     return definePlugin({ name: 'chat', channels: [CHAT], setup(ctx) { … } });
 *   }
 *   chat({ historyLimit: -1 }); // CONFIG_INVALID: plugin "chat": option historyLimit must be an integer ≥ 0, got -1
 */
export function readOptions<const S extends OptionsSchema>(pluginName: string, options: unknown, schema: S): OptionsOf<S> {
  return checkOptions(schema, options, {
    fail: (message) => new ConfabError('CONFIG_INVALID', `plugin "${pluginName}": ${message}`),
    subject: (key) => `option ${key}`,
    unknown: (key) => key,
    whole: 'options',
  });
}

/** How `checkOptions` words its errors. */
export interface CheckOptionsWording {
  /** Builds the error to throw from a message. */
  fail(message: string): Error;
  /** How an option is named in "… must be …" (`server.port`, `option historyLimit`). */
  subject(key: string): string;
  /** How an unknown option is named in "… is not an option" (`server.prot`, `historyLimt`). */
  unknown(key: string): string;
  /** How the whole object is named when it is not an object (`server`, `options`). */
  whole: string;
}

/**
 * The checker behind `readOptions` and `resolveServerOptions`: fills defaults and throws `wording.fail(…)`
 * for the first unknown or wrong option. `undefined` counts as not given.
 */
export function checkOptions<const S extends OptionsSchema>(schema: S, input: unknown, wording: CheckOptionsWording): OptionsOf<S> {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw wording.fail(`${wording.whole} must be an object, got ${describeValue(input)}`);
  }
  const given = input as Record<string, unknown>;
  const names = Object.keys(schema);
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(schema, key)) continue;
    const guess = didYouMean(key, names);
    const hint = guess ? ` (did you mean ${guess}?)` : `; the options are ${names.join(', ')}`;
    throw wording.fail(`${wording.unknown(key)} is not an option${hint}`);
  }
  const result: Record<string, unknown> = {};
  for (const key of names) {
    const spec = schema[key]!;
    const value = given[key];
    if (value === undefined) {
      result[key] = spec.default;
      continue;
    }
    const problem = checkValue(spec, value);
    if (problem) throw wording.fail(`${wording.subject(key)} must be ${problem}, got ${describeValue(value)}`);
    result[key] = value;
  }
  return result as OptionsOf<S>;
}

/** Returns what the value should have been ("an integer from 0 to 65535"), or undefined when it is fine. */
function checkValue(spec: OptionSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'string': {
      if (spec.values) return spec.values.includes(value as string) ? undefined : `one of ${spec.values.join(', ')}`;
      if (typeof value !== 'string') return spec.nonEmpty ? 'a non-empty string' : 'a string';
      return spec.nonEmpty && value.length === 0 ? 'a non-empty string' : undefined;
    }
    case 'integer':
    case 'number': {
      const ok =
        typeof value === 'number' &&
        (spec.type === 'integer' ? Number.isSafeInteger(value) : Number.isFinite(value)) &&
        (spec.min === undefined || value >= spec.min) &&
        (spec.max === undefined || value <= spec.max);
      return ok ? undefined : describeNumberSpec(spec);
    }
  }
}

function describeNumberSpec(spec: NumberOptionSpec): string {
  const noun = spec.type === 'integer' ? 'an integer' : 'a number';
  if (spec.min !== undefined && spec.max !== undefined) return `${noun} from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return `${noun} ≥ ${spec.min}`;
  if (spec.max !== undefined) return `${noun} ≤ ${spec.max}`;
  return noun;
}

/** A short, readable rendering of a wrong value for an error message: `"5000x"`, `-1`, `an array`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'function') return value.name ? `a function (${value.name})` : 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

/** The closest candidate to a misspelt name, if one is close enough to be a likely typo. */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Edit distance counting an adjacent swap as one edit (`prot` → `port` is 1). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]![j] = j;
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
