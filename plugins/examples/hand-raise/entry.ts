/**
 * The hand-raise plugin's client entry: its client half, and an overlay on the web client's tiles (a raise
 * button on one's own tile, a ✋ with the place in the queue on everyone's whose hand is up). The server half
 * names this module (`client`), so the web client shows it once hand-raise is in the plugins list.
 */
import { defineClientEntry } from '../../../core/client/entry.js';
import { handRaiseClient } from './client.js';
import { mountHandOverlay } from './tile-overlay.js';

export default defineClientEntry({
  name: 'hand-raise',
  create: () => handRaiseClient(),
  web: { tileOverlay: { mount: mountHandOverlay } },
});
