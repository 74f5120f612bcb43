/**
 * A plugin's own grants in access tokens (issue 14 item 9): `confab token --grant countdown:start --config`
 * mints one when the config's plugins declare it and refuses an unknown one with the grants it knows; the
 * auth plugin admits a token with a declared plugin grant (the session holds it) and refuses one that grants
 * what no plugin of the server declares; passwordGrants naming an undeclared grant stops the server at start-up.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { definePlugin } from '../../core/config.js';
import { isConfabError } from '../../core/errors.js';
import { startTestServer } from '../../core/testing.js';
import { auth } from '../../plugins/auth/server.js';
import { confab, ROOT } from '../cli/harness.js';

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'confab-plugin-grants-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A plugin that only declares a grant. */
const countdown = () => definePlugin({ name: 'countdown', grants: ['countdown:start'], setup() {} });

/** The claims inside a token. */
function claimsOf(token: string): { grants: string[] } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

test('confab token mints a plugin grant the config declares, and names the known ones for an unknown grant', async () => {
  const config = join(dir, 'plugins.config.ts');
  writeFileSync(config, `import { defineConfig, definePlugin } from ${JSON.stringify(join(ROOT, 'core/config.js'))};
export default defineConfig({ plugins: [definePlugin({ name: 'countdown', grants: ['countdown:start'], setup() {} })] });
`);
  const data = join(dir, 'data');
  const minted = await confab(['token', '--room', 'lab', '--grant', 'chat,countdown:start', '--config', config, '--data-dir', data, '--init']);
  assert.is(minted.code, 0, minted.stderr);
  assert.equal(claimsOf(minted.stdout.trim()).grants, ['join', 'chat', 'countdown:start']);

  const unknown = await confab(['token', '--room', 'lab', '--grant', 'countdown:stop', '--config', config, '--data-dir', data]);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, /unknown grant countdown:stop; the grants are join, .*; the plugins' grants are countdown:start/);
  assert.is(unknown.stdout, '');

  // Without a config there, the built-in plugins are the config: they declare no plugin grant.
  const none = await confab(['token', '--room', 'lab', '--grant', 'countdown:start', '--data-dir', data], { cwd: data });
  assert.is(none.code, 1);
  assert.match(none.stderr, /unknown grant countdown:start; .*the plugins of the config declare none/);
});

test('the auth plugin admits a token with a declared plugin grant and refuses one granting an undeclared grant', async () => {
  const lab = await startTestServer({ plugins: [auth(), countdown()] });
  try {
    const data = lab.dataDir;
    const mint = async (plugin: string, grant: string) => {
      const config = join(dir, `${plugin}.config.ts`);
      writeFileSync(config, `import { defineConfig, definePlugin } from ${JSON.stringify(join(ROOT, 'core/config.js'))};
export default defineConfig({ plugins: [definePlugin({ name: '${plugin}', grants: ['${grant}'], setup() {} })] });
`);
      const minted = await confab(['token', '--room', 'lab', '--grant', grant, '--config', config, '--data-dir', data]);
      assert.is(minted.code, 0, minted.stderr);
      return minted.stdout.trim();
    };
    const good = await mint('countdown', 'countdown:start');
    // The bad one from a config that declares a grant this server does not have.
    const bad = await mint('other', 'other:thing');

    const alice = await lab.connect('alice', { room: 'lab', client: { token: good } });
    assert.ok(lab.session(alice).grants.has('countdown:start'));
    assert.not.ok(lab.session(alice).grants.has('chat'), 'only what the token grants');
    const refused = await lab.connect('mallory', { room: 'lab', client: { token: bad, reconnect: false } }).catch((error: unknown) => error);
    assert.ok(isConfabError(refused), String(refused));
    assert.is(refused.code, 'AUTH_TOKEN_INVALID');
    assert.match(refused.message, /other:thing, which no plugin of this server declares/);
  } finally {
    await lab.close();
  }
});

test('passwordGrants naming a grant no plugin declares stops the server at start-up', async () => {
  const failed = await startTestServer({ plugins: [auth({ passwords: { lab: 'a long password' }, passwordGrants: ['join', 'countdown:start'] })] })
    .then(async (lab) => {
      await lab.close();
      return undefined;
    }, (error: unknown) => error);
  assert.ok(isConfabError(failed));
  assert.match(failed.message, /passwordGrants names countdown:start, which no plugin of this server declares/);
  const lab = await startTestServer({ plugins: [auth({ passwords: { lab: 'a long password' }, passwordGrants: ['join', 'countdown:start'] }), countdown()] });
  await lab.close();
});

test.run();
