/**
 * The seeds' file transfer as the files bench runs it (its baseline): a json channel of chunks of base64,
 * then an end, answered with done. Shared by bench/files-server.ts and bench/files-client.ts.
 */
import { jsonChannel } from '../core/channel-def.js';
import { ConfabError } from '../core/errors.js';

/** What the seeds' client sends. */
export type SeedRequest = { op: 'chunk'; data: string } | { op: 'end' };

/** The seeds' protocol, as the bench runs it: chunks of base64 in JSON, then an end; the server says done. */
export const SEED_FILE = jsonChannel<SeedRequest, { op: 'done' }>('seed-file', {
  maxPayload: 64 * 1024,
  parse: (message) => {
    if (message.op === 'end') return { op: 'end' };
    if (message.op === 'chunk' && typeof message.data === 'string') return { op: 'chunk', data: message.data };
    throw new ConfabError('SEED_BAD_REQUEST', 'send {"op":"chunk","data":base64} or {"op":"end"}');
  },
});

