/**
 * What the load tester measures of layered video (VP8, three temporal layers): frames sent and delivered per
 * layer, base-layer frames lost, and frames that arrived but could not be decoded (after a loss, until the
 * next keyframe).
 *
 * Layers 1 and 2 that a receiver did not get may be the server's choice (a congested receiver gets fewer
 * layers), so only the base layer counts as loss. A lost base-layer frame shows as a jump of the header's
 * base-layer index (4 bits, like RTP's TL0PICIDX); for a gap of 16 or more, the sequence numbers say how
 * many at least were missed (a base-layer frame comes at least every 4 frames).
 */
import { BASE_INDEX_MODULO, MAX_TEMPORAL_LAYER, type MediaFrame } from '../../core/media.js';
import { L1T3_PATTERN } from '../media/vp8-settings.js';

/** Delivery of one temporal layer over every receiver. */
export interface LayerDelivery {
  layer: number;
  /** Frames of this layer the bots sent. */
  sent: number;
  /** Sent × the receivers each was for. */
  expected: number;
  /** Frames of this layer that arrived, over all receivers. */
  received: number;
}

/** The layered part of the video report. */
export interface LayeredReport {
  layers: LayerDelivery[];
  /** Base-layer frames that never arrived, over all receivers and senders. */
  baseLost: number;
  /** Frames that arrived but waited for a keyframe (not decodable), over all receivers. */
  undecodable: number;
  /** Keyframe requests the bots answered as publishers. */
  keyframeRequests: number;
}

/** The base-layer frames one receiver saw of one sender. */
class BaseLayerTracker {
  #last: { seq: number; index: number } | undefined;
  lost = 0;

  add(frame: Pick<MediaFrame, 'seq' | 'baseIndex'>): void {
    const last = this.#last;
    this.#last = { seq: frame.seq, index: frame.baseIndex };
    if (!last) return;
    const seqGap = (frame.seq - last.seq) >>> 0;
    if (seqGap === 0 || seqGap > 0x7fffffff) return; // a duplicate or a late frame
    const byIndex = (frame.baseIndex - last.index + BASE_INDEX_MODULO) % BASE_INDEX_MODULO || BASE_INDEX_MODULO;
    const bySeq = Math.ceil(seqGap / L1T3_PATTERN.length);
    let between = byIndex;
    while (between < bySeq) between += BASE_INDEX_MODULO;
    this.lost += between - 1;
  }
}

/**
 * Collects layered delivery over every bot.
 *
 * @example
 *   stats.sent(frame.layer, receivers);                 // a bot published a frame
 *   stats.arrived(receiverId, frame);                   // a frame came in (before any decodability check)
 *   stats.report({ undecodable, keyframeRequests })
 */
export class LayerStats {
  readonly #sent = new Array<number>(MAX_TEMPORAL_LAYER + 1).fill(0);
  readonly #expected = new Array<number>(MAX_TEMPORAL_LAYER + 1).fill(0);
  readonly #received = new Array<number>(MAX_TEMPORAL_LAYER + 1).fill(0);
  readonly #base = new Map<string, BaseLayerTracker>();

  /** A bot sent a frame of `layer` for `receivers` others. */
  sent(layer: number, receivers: number): void {
    this.#sent[layer]!++;
    this.#expected[layer]! += receivers;
  }

  /** A frame arrived at `receiver`. */
  arrived(receiver: string, frame: Pick<MediaFrame, 'sender' | 'seq' | 'layer' | 'baseIndex'>): void {
    this.#received[frame.layer]!++;
    if (frame.layer !== 0) return;
    const key = `${receiver}>${frame.sender}`;
    let tracker = this.#base.get(key);
    if (!tracker) this.#base.set(key, (tracker = new BaseLayerTracker()));
    tracker.add(frame);
  }

  /** The report, with the counts only the caller knows. */
  report(extra: { undecodable: number; keyframeRequests: number }): LayeredReport {
    let baseLost = 0;
    for (const tracker of this.#base.values()) baseLost += tracker.lost;
    return {
      layers: this.#sent.map((sent, layer) => ({ layer, sent, expected: this.#expected[layer]!, received: this.#received[layer]! })),
      baseLost,
      ...extra,
    };
  }
}
