/**
 * A server for test/core/logger.test.ts, in a process of its own so its stderr is a pipe (JSON lines): the
 * auth plugin, and a plugin that logs what a careless plugin might (the HELLO with its token, the session's
 * resume and media tokens, the secret). Prints `port <n>` on stdout once listening; exits on stdin's end.
 */
import { definePlugin } from '../../core/config.js';
import { createServer } from '../../core/server.js';
import { auth } from '../../plugins/auth/server.js';

const careless = definePlugin({
  name: 'careless',
  setup(ctx) {
    ctx.hooks.handshake.tapPromise('careless', async (hello) => {
      ctx.log.info('hello', { hello });
      ctx.log.debug(`hello with token ${hello.token}`);
      return undefined;
    });
    ctx.hooks.sessionJoined.tap('careless', (session) => {
      ctx.log.info('joined', { resumeToken: session.resumeToken, mediaToken: session.mediaToken, session: { resume: session.resumeToken } });
      ctx.log.warn('a secret', { secret: 'hunter2', config: { password: 'hunter3' } });
    });
  },
});

const server = await createServer({
  server: { host: '127.0.0.1', port: 0, dataDir: process.argv[2]!, logLevel: 'debug', udp: false },
  plugins: [auth(), careless],
});
const { port } = await server.listen();
process.stdout.write(`port ${port}\n`);
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
