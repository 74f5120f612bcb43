/**
 * Reads `/metrics` with a real Prometheus parser: the Python client's (Debian's python3-prometheus-client,
 * which .ci/run installs), so tests check what Prometheus tooling reads rather than our own regexes. A line
 * the parser does not accept fails the test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** One sample: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A metric family as the parser sees it (a counter's family name has no `_total`). */
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

/** Debian's python3 (where python3-prometheus-client installs), else the one on PATH. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const SCRIPT = `
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
def number(value):
    return value if math.isfinite(value) else str(value)
print(json.dumps([
    {'name': f.name, 'type': f.type, 'help': f.documentation,
     'samples': [{'name': s.name, 'labels': s.labels, 'value': number(s.value)} for s in f.samples]}
    for f in text_string_to_metric_families(sys.stdin.read())]))
`;

/** Parses Prometheus text format; throws with the parser's message when it refuses the text. */
export function parsePrometheus(text: string): Family[] {
  const result = spawnSync(PYTHON, ['-c', SCRIPT], { input: text, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.error) throw new Error(`cannot run ${PYTHON}: ${result.error.message}`);
  if (result.status !== 0) {
    const hint = /No module named 'prometheus_client'/.test(result.stderr) ? ' (apt-get install python3-prometheus-client)' : '';
    throw new Error(`the Prometheus parser refused the text${hint}: ${result.stderr.trim().split('\n').at(-1)}`);
  }
  const families = JSON.parse(result.stdout) as Array<Omit<Family, 'samples'> & { samples: Array<Omit<Sample, 'value'> & { value: number | string }> }>;
  return families.map((family) => ({ ...family, samples: family.samples.map((sample) => ({ ...sample, value: Number(sample.value) })) }));
}

/** Every sample of the parsed families. */
export function allSamples(families: Family[]): Sample[] {
  return families.flatMap((family) => family.samples);
}

/** The value of the sample with this name and (at least) these labels; undefined when there is none. */
export function sampleValue(families: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = allSamples(families).find((sample) => sample.name === name
    && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  return found?.value;
}
