/**
 * The connection status pill in the top bar (a polite live region): connecting, connected, reconnecting
 * (with a pulsing dot and the attempt number), left or failed.
 */
import { byId } from './dom.js';

/** What the pill shows. */
export type StatusState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

const pill = byId('status');

/** Shows a state and its sentence. */
export function setStatus(state: StatusState, text: string): void {
  pill.dataset.state = state;
  pill.textContent = text;
}
