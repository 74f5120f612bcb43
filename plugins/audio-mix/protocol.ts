/**
 * The audio-mix plugin's messages and constants, shared by its server and client halves. Two channels:
 *
 * `audio` (media): media frames (core/media.ts) of 20 ms, 48 kHz mono: Opus or PCM s16le.
 *   client → server  one frame of the client's microphone (sender empty or the client's own id)
 *   server → client  the client's mix: everyone else's voice; the sender id is empty (a mix has no single
 *                    sender), seq counts the room's mixer ticks, captureMs is the newest capture time mixed in
 *                    and, after {"op":"tracks","on":true}, each other speaker's own frames as they arrived
 *                    (not re-encoded): the sender id is the speaker's, seq and captureMs are the speaker's
 *
 * `audio-control` (json):
 *   client → server  {"op":"listen","codec":"opus"|"pcm"}   receive the mix, in that codec
 *                    {"op":"unlisten"}                        stop receiving it
 *                    {"op":"mute","muted":true|false}        the client's own mute (its frames are dropped)
 *                    {"op":"tracks","on":true|false}          also receive (or stop) each speaker's own frames
 *   server → client  {"op":"codecs","codecs":["opus","pcm"]}        on join: the codecs this server takes from
 *                                                                    publishers and can send mixes in (["pcm"]
 *                                                                    without Opus); clients fall back to PCM
 *                    {"op":"listening","codec":"opus"|"pcm"|null}  the codec the mix will come in (null: stopped)
 *                    {"op":"tracks","on":bool}                      whether the speakers' own frames come now
 *                    {"op":"muted","peer":"<id>","muted":bool}       to the whole room, sender included
 *                    {"op":"state","muted":["<id>"…]}               to a joiner: who is muted now
 *                    {"op":"levels","levels":{"<id>":-23,…}}        speakers whose level changed (dBFS), ≤ 5 per s
 *   errors           ERROR frames with "channel":"audio-control" (codes in AUDIO_ERRORS)
 */
import { defineErrors, jsonChannel, mediaChannel, type JsonObject } from '../../core/wire.js';

/** Samples per second. */
export const SAMPLE_RATE = 48_000;
/** Milliseconds per frame. */
export const FRAME_MS = 20;
/** Samples per frame (mono): 20 ms at 48 kHz. */
export const FRAME_SAMPLES = 960;
/** Bytes of one PCM s16le frame. */
export const PCM_FRAME_BYTES = FRAME_SAMPLES * 2;
/** The largest Opus packet (RFC 6716, 3.2.1); a PCM frame is larger, so this is the media inbox's limit. */
export const MAX_OPUS_PACKET_BYTES = 1275;
/** The level reported for silence, in dBFS (JSON has no -Infinity). */
export const SILENCE_DBFS = -100;

/** A codec a client may send and ask to receive. */
export type AudioCodecName = 'opus' | 'pcm';

/** What a client sends on `audio-control`. */
export type AudioControlRequest =
  | { op: 'listen'; codec: AudioCodecName }
  | { op: 'unlisten' }
  | { op: 'mute'; muted: boolean }
  | { op: 'tracks'; on: boolean };

/** What the server sends on `audio-control`. */
export type AudioControlMessage =
  | { op: 'codecs'; codecs: AudioCodecName[] }
  | { op: 'listening'; codec: AudioCodecName | null }
  | { op: 'tracks'; on: boolean }
  | { op: 'muted'; peer: string; muted: boolean }
  | { op: 'state'; muted: string[] }
  | { op: 'levels'; levels: Record<string, number> };

/** The audio-mix plugin's error codes. */
export const AUDIO_ERRORS = defineErrors('audio-mix', {
  AUDIO_BAD_REQUEST: 'the message must be {"op":"listen","codec":"opus"|"pcm"}, {"op":"unlisten"}, {"op":"mute","muted":boolean} or {"op":"tracks","on":boolean}',
  AUDIO_NOT_ALLOWED: 'this session may not receive media (it lacks the subscribe grant)',
});

/** Checks what a client sends on `audio-control`; AUDIO_BAD_REQUEST for anything else. */
export function parseAudioControlRequest(message: JsonObject): AudioControlRequest {
  const { op, codec, muted, on } = message;
  if (op === 'listen' && (codec === 'opus' || codec === 'pcm')) return { op, codec };
  if (op === 'unlisten') return { op };
  if (op === 'mute' && typeof muted === 'boolean') return { op, muted };
  if (op === 'tracks' && typeof on === 'boolean') return { op, on };
  throw AUDIO_ERRORS.AUDIO_BAD_REQUEST();
}

/** The media channel: microphone frames in; mixes (and, for who asked, the speakers' own frames) out. */
export const AUDIO = mediaChannel('audio', { maxPayload: 4096 });
/** The json channel: listen, mute, tracks, codecs, levels. */
export const AUDIO_CONTROL = jsonChannel<AudioControlRequest, AudioControlMessage>('audio-control', { parse: parseAudioControlRequest, maxPayload: 1024 });
