/**
 * plugins/auth/token.ts on jose: interop with another standard JWT implementation (one written with
 * Python's standard library: hmac, hashlib, base64, json, run through `python3 -c`) in both directions, and
 * the policy kept from before: HS256 only (never `none`), exp, iat and jti required, the maximum lifetime,
 * iat not in the future, crit refused.
 */
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfabError } from '../../core/errors.js';
import type { TokenClaims } from '../../plugins/auth/protocol.js';
import { signToken, verifyToken } from '../../plugins/auth/token.js';

const SECRET = Buffer.alloc(32, 9);
const OTHER_SECRET = Buffer.alloc(32, 10);
const MAX_TTL = 3600;

/**
 * Python's standard library as a second JWT implementation. `make` signs a header and claims with HS256
 * (or leaves the signature empty for alg none); `check` verifies a token's HMAC and prints its claims.
 */
const PYTHON = `
import base64, hashlib, hmac, json, sys
def b64(data): return base64.urlsafe_b64encode(data).rstrip(b'=').decode()
def unb64(text): return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
request = json.load(sys.stdin)
key = bytes.fromhex(request['key'])
if request['op'] == 'make':
    body = b64(json.dumps(request['header'], separators=(',', ':')).encode()) + '.' + b64(json.dumps(request['claims'], separators=(',', ':')).encode())
    signature = '' if request['header']['alg'] == 'none' else b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    print(body + '.' + signature)
else:
    header, claims, signature = request['token'].split('.')
    expected = hmac.new(key, (header + '.' + claims).encode(), hashlib.sha256).digest()
    print(json.dumps({'valid': hmac.compare_digest(expected, unb64(signature)), 'header': json.loads(unb64(header)), 'claims': json.loads(unb64(claims))}))
`;

function python(request: Record<string, unknown>): string {
  const result = spawnSync('python3', ['-c', PYTHON], { input: JSON.stringify(request), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.error?.message ?? result.stderr}`);
  return result.stdout.trim();
}

/** A token made by Python's standard library. */
function pythonToken(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, key = SECRET): string {
  return python({ op: 'make', key: key.toString('hex'), header, claims });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const claims = () => ({ room: 'lab1', name: 'alice', grants: ['join', 'chat'], iat: nowSeconds(), exp: nowSeconds() + 600, jti: 'py-token-1' });

async function refusal(token: string, maxTtlSeconds = MAX_TTL): Promise<ConfabError> {
  const verdict = await verifyToken(token, SECRET, { maxTtlSeconds });
  assert.ok(verdict instanceof ConfabError, `refused: ${JSON.stringify(verdict)}`);
  return verdict as ConfabError;
}

test('verifyToken() accepts a token made by another JWT implementation (Python: hmac, hashlib, base64)', async () => {
  const made = claims();
  const verdict = await verifyToken(pythonToken(made), SECRET, { maxTtlSeconds: MAX_TTL });
  assert.equal(verdict, made as TokenClaims);
});

test('signToken() makes a standard HS256 JWT that Python verifies with the same secret, and not with another', async () => {
  const token = await signToken(SECRET, { room: 'lab1', name: 'bob', grants: ['join'], ttlSeconds: 600 });
  const checked = JSON.parse(python({ op: 'check', key: SECRET.toString('hex'), token }));
  assert.is(checked.valid, true);
  assert.equal(checked.header, { alg: 'HS256', typ: 'JWT' });
  assert.is(checked.claims.room, 'lab1');
  assert.is(checked.claims.exp - checked.claims.iat, 600);
  assert.match(checked.claims.jti, /^[\w-]{12}$/);
  assert.is(JSON.parse(python({ op: 'check', key: OTHER_SECRET.toString('hex'), token })).valid, false);
});

test('a token signed with the wrong key gets AUTH_TOKEN_INVALID naming the signature', async () => {
  const error = await refusal(pythonToken(claims(), undefined, OTHER_SECRET));
  assert.is(error.code, 'AUTH_TOKEN_INVALID');
  assert.match(error.message, /signature/);
});

test('alg none (with or without a signature) and any other algorithm get AUTH_TOKEN_INVALID naming the algorithm', async () => {
  const none = pythonToken(claims(), { alg: 'none', typ: 'JWT' });
  assert.ok(none.endsWith('.'), 'an unsigned token');
  for (const token of [none, `${none}c2lnbmF0dXJl`, pythonToken(claims(), { alg: 'HS512' }), pythonToken(claims(), { alg: 'hs256' })]) {
    const error = await refusal(token);
    assert.is(error.code, 'AUTH_TOKEN_INVALID');
    assert.match(error.message, /algorithm .* only HS256 is accepted/);
  }
});

test('exp, iat and jti are required; a lifetime over the maximum, an iat in the future and crit are refused', async () => {
  const { exp: _exp, ...noExp } = claims();
  const { iat: _iat, ...noIat } = claims();
  const { jti: _jti, ...noJti } = claims();
  const cases: Array<[string, string, RegExp]> = [
    ['no exp', pythonToken(noExp), /"exp"/],
    ['no iat', pythonToken(noIat), /"iat"/],
    ['no jti', pythonToken(noJti), /"jti"/],
    ['exp not a number', pythonToken({ ...claims(), exp: 'tomorrow' }), /"exp"/],
    ['lifetime over the maximum', pythonToken({ ...claims(), exp: nowSeconds() + MAX_TTL + 60 }), /lifetime/],
    ['issued in the future', pythonToken({ ...claims(), iat: nowSeconds() + 600, exp: nowSeconds() + 900 }), /future/],
    ['crit extension', pythonToken(claims(), { alg: 'HS256', crit: ['exp'] }), /support|crit/i],
    ['unknown grant', pythonToken({ ...claims(), grants: ['join', 'root'] }), /grants/],
    ['no room', pythonToken({ ...claims(), room: '' }), /room/],
    ['not a JWT', 'hello', /compact JWT/],
  ];
  for (const [what, token, why] of cases) {
    const error = await refusal(token);
    assert.is(error.code, 'AUTH_TOKEN_INVALID', what);
    assert.match(error.message, why, what);
  }
});

test('an expired token gets AUTH_TOKEN_EXPIRED saying how long ago', async () => {
  const error = await refusal(pythonToken({ ...claims(), iat: nowSeconds() - 700, exp: nowSeconds() - 100 }));
  assert.is(error.code, 'AUTH_TOKEN_EXPIRED');
  assert.match(error.message, /expired 10\d s ago/);
});

test.run();
