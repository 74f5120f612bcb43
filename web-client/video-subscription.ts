/**
 * Which video this client asks the server for (the video-relay plugin's `subscribe`): everything in gallery
 * view; in speaker view the featured speaker at full rate and the thumbnails at the base layer (a quarter of
 * the rate). A sender whose codec this browser cannot decode (it shows a placeholder) is asked for at the
 * base layer only, so its frames cost little while the tile still learns when its codec changes.
 */
import type { VideoSubscription } from '../plugins/video-relay/protocol.js';
import type { GridView } from './grid.js';

/** The highest temporal layer (every frame). */
const FULL_RATE = 2;
/** The base layer (a quarter of the frames). */
const BASE_RATE = 0;

/**
 * The subscription for a view: `featured` is the speaker shown large in speaker view (undefined when it is
 * this client itself), `undecodable` the senders this browser cannot decode.
 *
 * @example
 *   planSubscription('speaker', 'peer-a', new Set())  // { layer: 0, layers: { 'peer-a': 2 } }
 *   planSubscription('gallery', undefined, new Set()) // {}
 */
export function planSubscription(view: GridView, featured: string | undefined, undecodable: ReadonlySet<string>): VideoSubscription {
  const layers: Record<string, number> = {};
  if (view === 'speaker' && featured !== undefined && !undecodable.has(featured)) layers[featured] = FULL_RATE;
  if (view === 'gallery') for (const sender of undecodable) layers[sender] = BASE_RATE;
  const subscription: VideoSubscription = view === 'speaker' ? { layer: BASE_RATE } : {};
  if (Object.keys(layers).length > 0) subscription.layers = layers;
  return subscription;
}
