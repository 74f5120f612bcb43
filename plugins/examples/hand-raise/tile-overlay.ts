/**
 * The hand-raise overlay on the web client's tiles: on this participant's own tile a button to raise or
 * lower the hand, on everyone's tile a ✋ with their place in the queue while their hand is up.
 */
import type { TilePeer, Unmount, WebContext } from '../../../core/client/extensions.js';
import type { HandsApi } from './client.js';

/** The overlay's own look, on top of the web client's (its colours are the page's CSS variables). */
const BADGE_STYLE = 'padding: .1rem .45rem; border-radius: 999px; background: var(--warn); color: #000; font-weight: 700;';

/** Builds the overlay of `peer`'s tile into `root`; the returned function stops following the queue. */
export function mountHandOverlay(root: HTMLElement, peer: TilePeer, { api }: WebContext<HandsApi>): Unmount {
  const badge = document.createElement('span');
  badge.setAttribute('role', 'img');
  badge.setAttribute('style', BADGE_STYLE);
  const button = document.createElement('button');
  button.type = 'button';
  button.addEventListener('click', () => (api.raised ? api.lower() : api.raise()));
  root.append(badge, ...(peer.self ? [button] : []));

  const render = () => {
    const place = api.queue.findIndex((hand) => hand.id === peer.id) + 1;
    badge.hidden = place === 0;
    badge.textContent = `✋ ${place}`;
    badge.setAttribute('aria-label', `${peer.self ? 'your' : `${peer.name}'s`} hand is up, number ${place} in the queue`);
    button.textContent = place === 0 ? 'Raise hand' : 'Lower hand';
    button.setAttribute('aria-pressed', String(place > 0));
  };
  api.on('queue', render);
  render();
  return () => api.off('queue', render);
}
