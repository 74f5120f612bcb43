/**
 * `confab token` and `confab token revoke` against a data directory, as a person would run them.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openStore } from '../../core/store.js';
import { auth } from '../../plugins/auth/server.js';
import { startTestServer } from '../../core/testing.js';
import { confab } from './harness.js';

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-token-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('a data directory without a secret (a misspelled --data-dir) is refused, and nothing is created; --init creates it and says so', async () => {
  const typo = join(dir, '.confba');
  const refused = await confab(['token', '--room', 'lab', '--data-dir', typo]);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, `confab: CLI_DATA_DIR_EMPTY: ${typo} has no auth secret`);
  assert.match(refused.stderr, /is --data-dir the server's data directory\? .*add --init/);
  assert.is(refused.stdout, '');
  assert.not.ok(existsSync(typo), 'nothing written');
  const created = await confab(['token', '--room', 'lab', '--data-dir', typo, '--init']);
  assert.is(created.code, 0, created.stderr);
  assert.match(created.stderr, `created the secret in ${typo}`);
  const again = await confab(['token', '--room', 'lab', '--data-dir', typo]);
  assert.match(again.stderr, `signed with the secret in ${typo}`);
});

test('a lifetime longer than servers accept (1d) is refused at minting, unless --max-ttl says the server accepts it', async () => {
  await confab(['token', '--room', 'lab', '--data-dir', dir, '--init']);
  const long = await confab(['token', '--room', 'lab', '--ttl', '2d', '--data-dir', dir]);
  assert.is(long.code, 2);
  assert.match(long.stderr, /^confab token: --ttl 2d is longer than the server accepts \(1d, its auth option maxTtlSeconds\)/);
  assert.is(long.stdout, '');
  const allowed = await confab(['token', '--room', 'lab', '--ttl', '2d', '--max-ttl', '7d', '--data-dir', dir]);
  assert.is(allowed.code, 0, allowed.stderr);
  assert.match((await confab(['token', '--room', 'lab', '--ttl', 'soon', '--data-dir', dir])).stderr, /--ttl must be a positive time like 90s/);
});

test('revoke checks what it revokes: an id confab token mints, a token of this data directory, a store that exists', async () => {
  const server = await startTestServer({ plugins: [auth()] });
  try {
    const minted = await confab(['token', '--room', 'lab', '--name', 'alice', '--data-dir', server.dataDir]);
    const jti = /jti (\S+)/.exec(minted.stderr)![1]!;
    const token = minted.stdout.trim();

    const nonsense = await confab(['token', 'revoke', 'notatoken', '--data-dir', server.dataDir]);
    assert.is(nonsense.code, 2);
    assert.match(nonsense.stderr, /"notatoken" is not a token id that confab token mints/);

    const byToken = await confab(['token', 'revoke', token, '--data-dir', server.dataDir]);
    assert.is(byToken.code, 0, byToken.stderr);
    assert.match(byToken.stderr, new RegExp(`^revoked ${jti} \\(room lab, alice, valid until \\d{4}-`));
    const again = await confab(['token', 'revoke', jti, '--data-dir', server.dataDir]);
    assert.match(again.stderr, `${jti} was already revoked`);

    const otherDir = join(dir, 'other');
    mkdirSync(otherDir);
    await confab(['token', '--room', 'x', '--data-dir', otherDir, '--init']);
    openStore(otherDir).close();
    const foreign = await confab(['token', 'revoke', token, '--data-dir', otherDir]);
    assert.is(foreign.code, 1);
    assert.match(foreign.stderr, /CLI_NOT_A_TOKEN_ID: this token was not signed with the secret in .*other: it is another server's/);
    const empty = await confab(['token', 'revoke', jti, '--data-dir', join(dir, 'missing')]);
    assert.is(empty.code, 1);
    assert.match(empty.stderr, /CLI_DATA_DIR_EMPTY: .*has no store \(confab\.db\): is --data-dir the server's data directory\? Nothing was revoked/);
    assert.not.ok(existsSync(join(dir, 'missing')), 'no store was created');
  } finally {
    await server.close();
  }
});

test.run();
