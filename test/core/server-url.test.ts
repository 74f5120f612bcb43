import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { serverUrl } from '../../core/client/server-url.js';

test('serverUrl() turns host:port and [v6]:port into tcp:// URLs', () => {
  assert.is(serverUrl('127.0.0.1:5000'), 'tcp://127.0.0.1:5000');
  assert.is(serverUrl('[::1]:6000'), 'tcp://[::1]:6000');
  assert.is(serverUrl('localhost:5000'), 'tcp://localhost:5000');
});

test('serverUrl() keeps tcp://, tls://, ws:// and wss:// URLs as they are', () => {
  for (const url of ['tcp://127.0.0.1:5000', 'tls://127.0.0.1:5000', 'ws://127.0.0.1:5000/ws', 'wss://127.0.0.1:5000/ws']) {
    assert.is(serverUrl(url), url);
  }
});

test('serverUrl() takes the http:// and https:// address that confab serve prints as the same port', () => {
  assert.is(serverUrl('http://127.0.0.1:5000'), 'tcp://127.0.0.1:5000');
  assert.is(serverUrl('http://127.0.0.1:5000/'), 'tcp://127.0.0.1:5000');
  assert.is(serverUrl('HTTP://lab-pc:5000/?room=lab'), 'tcp://lab-pc:5000');
  assert.is(serverUrl('https://[::1]:5443'), 'tls://[::1]:5443');
  assert.is(serverUrl('http://lab-pc'), 'tcp://lab-pc:80');
});

test('serverUrl() refuses what is not a server', () => {
  for (const text of ['', 'nowhere', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:99999', 'http://', 'http://user:pw@host:5000', 'ftp://127.0.0.1:21', 'a b:5000', '127.0.0.1:', 'host/path:5000', '::1:5000']) {
    assert.is(serverUrl(text), undefined, text);
  }
});

test.run();
