/**
 * docs/grafana-dashboard.json and docs/prometheus-alerts.yml name only metrics that a live server (the
 * built-in plugins) exports, as read by the Prometheus parser; the dashboard is well formed (unique ids,
 * a datasource and a query for every panel, no overlapping panels) and every alert has a severity and a
 * summary. docs/operations.md shows the same alert rules.
 */
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestServer } from '../../core/testing.js';
import { builtinPlugins } from '../../plugins/index.js';
import { parsePrometheus, type Family } from '../helpers/prometheus.js';

const DOCS = new URL('../../docs/', import.meta.url).pathname;
/** Series Prometheus makes itself for every target. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
/** PromQL words that look like names. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

/** The metric names a PromQL expression reads. */
function metricNames(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/(?<![\w:])\d[\d.]*(e[+-]?\d+)?/gi, '');
  const names: string[] = [];
  for (const match of text.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const after = text.slice(match.index! + match[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(match[0])) continue;
    names.push(match[0]);
  }
  return names;
}

/** Every name a query may use for the parsed families: the family's, and its series' (_total, _bucket…). */
function exportedNames(families: Family[]): Set<string> {
  const names = new Set<string>();
  for (const family of families) {
    names.add(family.name);
    if (family.type === 'counter') names.add(`${family.name}_total`);
    if (family.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family.name + suffix);
    for (const sample of family.samples) names.add(sample.name);
  }
  return names;
}

function dashboard(): { panels: Panel[]; templating: { list: Array<{ query: { query: string } }> } } {
  return JSON.parse(readFileSync(`${DOCS}grafana-dashboard.json`, 'utf8'));
}

/** Every panel, rows' panels included. */
function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** The alert rules of a rule file: name, expression, severity, summary. */
function alertRules(yaml: string): Array<{ alert: string; expr: string; severity?: string; summary?: string }> {
  return yaml.split(/\n\s+- alert: /).slice(1).map((chunk) => ({
    alert: chunk.split('\n')[0]!.trim(),
    expr: /\n\s+expr: (.+)/.exec(chunk)?.[1]?.trim() ?? '',
    severity: /\n\s+severity: (\S+)/.exec(chunk)?.[1],
    summary: /\n\s+summary: (.+)/.exec(chunk)?.[1],
  }));
}

test('metricNames() reads the metrics of PromQL, not its functions, labels, ranges or numbers', () => {
  assert.equal(metricNames('histogram_quantile(0.99, sum by (instance, le) (rate(a_seconds_bucket{job="x"}[5m]))) > 0.01'), ['a_seconds_bucket']);
  assert.equal(metricNames('avg_over_time(b_bytes[10m]) > 50e6 and deriv(c_bytes{code=~"A|B"}[10m]) > 0'), ['b_bytes', 'c_bytes']);
});

test('the dashboard and the alert rules name only metrics a live server exports', async () => {
  const lab = await startTestServer({ plugins: builtinPlugins().filter((plugin) => plugin.name !== 'discovery') });
  try {
    const families = parsePrometheus(await (await fetch(`http://127.0.0.1:${lab.port}/metrics`)).text());
    const exported = exportedNames(families);
    const { panels, templating } = dashboard();
    const queries = [
      ...allPanels(panels).flatMap((panel) => (panel.targets ?? []).map((target) => [`panel "${panel.title}"`, target.expr] as const)),
      ...templating.list.map((variable) => [`variable query`, variable.query.query.replace(/^label_values\(([^,]+),.*$/, '$1')] as const),
      ...alertRules(readFileSync(`${DOCS}prometheus-alerts.yml`, 'utf8')).map((rule) => [`alert ${rule.alert}`, rule.expr] as const),
    ];
    assert.ok(queries.length > 25, `${queries.length} queries`);
    for (const [where, expr] of queries) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${where} reads a metric: ${expr}`);
      for (const name of names) assert.ok(exported.has(name) || PROMETHEUS_SERIES.has(name), `${where}: ${name} is not exported by a live server (${expr})`);
    }
  } finally {
    await lab.close();
  }
});

test('the dashboard is well formed: unique ids, a datasource and a query for each panel, no two panels overlap', () => {
  const panels = allPanels(dashboard().panels);
  const ids = panels.map((panel) => panel.id);
  assert.is(new Set(ids).size, ids.length, 'unique panel ids');
  for (const panel of panels.filter((candidate) => candidate.type !== 'row')) {
    assert.ok(panel.datasource, `${panel.title} has a datasource`);
    assert.ok((panel.targets ?? []).length > 0, `${panel.title} has a query`);
  }
  const cells = new Map<string, string>();
  for (const panel of panels) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x + w <= 24, `${panel.title} fits the 24-column grid`);
    for (let column = x; column < x + w; column++) {
      for (let row = y; row < y + h; row++) {
        const taken = cells.get(`${column},${row}`);
        assert.is(taken, undefined, `${panel.title} overlaps ${taken}`);
        cells.set(`${column},${row}`, panel.title);
      }
    }
  }
});

test('every alert has a severity and a summary, and docs/operations.md shows the same rules', () => {
  const file = readFileSync(`${DOCS}prometheus-alerts.yml`, 'utf8');
  const rules = alertRules(file);
  assert.ok(rules.length >= 8, `${rules.length} alerts`);
  for (const rule of rules) {
    assert.ok(rule.expr && rule.severity && rule.summary, `${rule.alert} has an expr, a severity and a summary`);
  }
  const operations = readFileSync(`${DOCS}operations.md`, 'utf8');
  for (const rule of rules) assert.ok(operations.includes(rule.expr), `docs/operations.md shows ${rule.alert}'s expression`);
});

test.run();
