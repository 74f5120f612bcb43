/**
 * Browser APIs the media code uses that TypeScript's DOM library does not declare (yet).
 */

/**
 * `MediaStreamTrackProcessor` (W3C mediacapture-transform): the frames of a video track as a stream of
 * VideoFrames. Chromium has it in pages; other browsers lack it (hence `| undefined`: check before use).
 */
declare var MediaStreamTrackProcessor: (new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => {
  readonly readable: ReadableStream<VideoFrame>;
}) | undefined;

/** WebCodecs: the temporal layer of an encoded chunk, given with a `scalabilityMode` such as `L1T3`. */
interface EncodedVideoChunkMetadata {
  svc?: { temporalLayerId: number };
}
