/**
 * Audio in the page: one AudioContext at 48 kHz with two AudioWorklets, the microphone capture (20 ms PCM
 * frames for the audio-mix plugin) and the playback of the server's mix through a jitter buffer.
 *
 * The AudioContext must be created during a user gesture (the Join click), or browsers keep it suspended.
 */
import { micError } from './permissions.js';

/** What the playback worklet reports about 10 times a second. */
export interface PlaybackStats {
  /** RMS of what was played (0..1). */
  rms: number;
  /** Frames waiting in the jitter buffer. */
  queued: number;
  /** Times the buffer ran dry. */
  underruns: number;
  /** Frames dropped because too many waited. */
  dropped: number;
}

/** The page's audio: create it in the Join click handler, then `await ready`. */
export class AudioEngine {
  readonly context = new AudioContext({ sampleRate: 48_000, latencyHint: 'interactive' });
  /** Resolves once both worklets are loaded. */
  readonly ready: Promise<void>;
  #playback: AudioWorkletNode | undefined;
  #mic: { stream: MediaStream; source: MediaStreamAudioSourceNode; node: AudioWorkletNode } | undefined;
  #sink: GainNode;

  constructor() {
    void this.context.resume();
    // Capture must be pulled by the graph to run; a silent gain to the speakers does that without echo.
    this.#sink = new GainNode(this.context, { gain: 0 });
    this.#sink.connect(this.context.destination);
    this.ready = this.#load();
  }

  async #load(): Promise<void> {
    await Promise.all([
      this.context.audioWorklet.addModule('/worklets/capture.js'),
      this.context.audioWorklet.addModule('/worklets/playback.js'),
    ]);
    this.#playback = new AudioWorkletNode(this.context, 'confab-playback', { numberOfInputs: 0, outputChannelCount: [1] });
    this.#playback.connect(this.context.destination);
  }

  /** Calls `listener` with the playback worklet's reports. */
  onPlaybackStats(listener: (stats: PlaybackStats) => void): void {
    this.#playback?.port.addEventListener('message', (event: MessageEvent<PlaybackStats>) => listener(event.data));
    this.#playback?.port.start();
  }

  /** Queues one 20 ms frame of the mix for playback (the samples are copied). */
  play(pcm: Int16Array): void {
    const copy = pcm.slice();
    this.#playback?.port.postMessage(copy, [copy.buffer]);
  }

  /** Whether the microphone is being captured. */
  get micOn(): boolean {
    return this.#mic !== undefined;
  }

  /**
   * Opens the microphone (a given device, or the default) and calls `onFrame` with each 20 ms frame and its
   * RMS level. Rejects with a message a person can act on when the browser refuses.
   */
  async startMic(deviceId: string | undefined, onFrame: (frame: Int16Array<ArrayBuffer>, rms: number) => void): Promise<void> {
    this.stopMic();
    await this.ready;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { deviceId: deviceId ? { exact: deviceId } : undefined, channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (error) {
      throw new Error(micError(error));
    }
    const source = new MediaStreamAudioSourceNode(this.context, { mediaStream: stream });
    const node = new AudioWorkletNode(this.context, 'confab-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
    node.port.onmessage = (event: MessageEvent<{ frame: Int16Array<ArrayBuffer>; rms: number }>) => onFrame(event.data.frame, event.data.rms);
    source.connect(node).connect(this.#sink);
    this.#mic = { stream, source, node };
  }

  /** Closes the microphone (the browser's recording indicator goes off). */
  stopMic(): void {
    if (!this.#mic) return;
    for (const track of this.#mic.stream.getTracks()) track.stop();
    this.#mic.source.disconnect();
    this.#mic.node.disconnect();
    this.#mic.node.port.onmessage = null;
    this.#mic = undefined;
  }

  /** Stops everything and closes the AudioContext. */
  async close(): Promise<void> {
    this.stopMic();
    await this.context.close();
  }
}
