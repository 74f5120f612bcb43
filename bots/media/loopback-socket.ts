/**
 * A one-connection TCP server on 127.0.0.1 for ffmpeg's second pipe.
 *
 * fluent-ffmpeg gives ffmpeg only stdin and stdout, so a second input or output stream (the audio beside the
 * video) goes over a loopback socket: the bot listens on an ephemeral port and ffmpeg connects to
 * `tcp://127.0.0.1:<port>` as if it were a file. Only the first connection is taken; the listener closes then.
 */
import net from 'node:net';

/** A listening loopback server that hands over its first connection. */
export interface LoopbackSocket {
  /** The URL to give ffmpeg as an input or output. */
  url: string;
  /** Resolves with the connection ffmpeg opens. */
  connection: Promise<net.Socket>;
  /** Stops listening and ends the connection, if any. Idempotent. */
  close(): void;
}

/**
 * Listens on 127.0.0.1 on an ephemeral port for one connection.
 *
 * @example
 *   const audio = await listenLoopback();
 *   command.output(audio.url).outputOptions(['-f', 's16le']);
 *   (await audio.connection).on('data', (pcm) => …);
 */
export async function listenLoopback(): Promise<LoopbackSocket> {
  const server = net.createServer();
  let socket: net.Socket | undefined;
  const connection = new Promise<net.Socket>((resolve, reject) => {
    server.once('connection', (accepted) => {
      socket = accepted;
      // A peer that resets the connection (ffmpeg killed) must not crash the bot.
      accepted.on('error', () => {});
      server.close();
      resolve(accepted);
    });
    server.once('close', () => reject(new Error('the loopback socket closed before ffmpeg connected')));
  });
  connection.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {});
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `tcp://127.0.0.1:${port}`,
    connection,
    close() {
      server.close();
      socket?.destroy();
    },
  };
}
