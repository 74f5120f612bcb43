import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorSpecs, errorTable } from '../../plugins/error-table.js';

test('docs/errors.md lists every error code of the core and of every shipped plugin, as the code defines them', () => {
  const written = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  assert.ok(written === errorTable(), 'docs/errors.md is out of date: run npm run docs:errors');
});

test('no two plugins (or a plugin and the core) define the same error code', () => {
  const seen = new Map<string, string>();
  for (const spec of errorSpecs()) {
    assert.not.ok(seen.has(spec.code), `${spec.code} is defined by ${seen.get(spec.code)} and ${spec.plugin}`);
    seen.set(spec.code, spec.plugin);
  }
});

test.run();
