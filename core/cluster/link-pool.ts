/**
 * Spare node links: for each node this node relays clients to, one link dialled and proven in advance
 * (core/cluster/node-link.ts), so the next relayed join skips the TCP connect and the handshake's two round
 * trips. Taking a spare dials the next one in the background; a node that relays nobody keeps none.
 *
 * A spare is used only while it is younger than SPARE_MAX_AGE_MS (the listener closes it at SPARE_WAIT_MS)
 * and still open: it is read while it waits, so a host node that goes away closes it at once.
 *
 *   const pool = new LinkPool((target) => dialNodeLink({ ...target, expect: target.id, … }));
 *   const link = await pool.take(target); // a spare, or a new link
 *   sendLinkClient(link, client);
 */
import type { Socket } from 'node:net';
import { SPARE_WAIT_MS } from './node-link.js';
import type { NodeInfo } from './types.js';

/** A spare older than this is closed instead of used: well before the listener gives up on it. */
const SPARE_MAX_AGE_MS = SPARE_WAIT_MS / 2;

interface Spare {
  /** The proven link, or undefined when dialling failed. */
  link: Promise<Socket | undefined>;
  at: number;
  /** Stops watching the link while it waits (set once it is proven). */
  unwatch?: () => void;
}

/** One spare link per target node, refilled as it is taken. */
export class LinkPool {
  readonly #dial: (target: NodeInfo) => Promise<Socket>;
  readonly #spares = new Map<string, Spare>();
  #closed = false;

  /** `dial` opens and proves a link to a node (dialNodeLink). */
  constructor(dial: (target: NodeInfo) => Promise<Socket>) {
    this.#dial = dial;
  }

  /**
   * A proven link to `target`, paused: its spare when one is ready and fresh, else a new one (which rejects as
   * dialNodeLink does). Either way, a spare for the next client is dialled.
   */
  async take(target: NodeInfo): Promise<Socket> {
    const spare = this.#spares.get(target.id);
    this.#spares.delete(target.id);
    let link = spare && performance.now() - spare.at < SPARE_MAX_AGE_MS ? await spare.link : undefined;
    if (link && (link.destroyed || link.readyState !== 'open')) link = undefined;
    if (link) {
      spare!.unwatch?.();
      link.pause();
    } else {
      void spare?.link.then((old) => old?.destroy());
    }
    this.#refill(target);
    return link ?? this.#dial(target);
  }

  /** Closes every spare; `take` dials no more spares afterwards. */
  close(): void {
    this.#closed = true;
    for (const spare of this.#spares.values()) void spare.link.then((link) => link?.destroy());
    this.#spares.clear();
  }

  #refill(target: NodeInfo): void {
    if (this.#closed || this.#spares.has(target.id)) return;
    const spare: Spare = { at: performance.now(), link: Promise.resolve(undefined) };
    const forget = () => {
      if (this.#spares.get(target.id) === spare) this.#spares.delete(target.id);
    };
    spare.link = this.#dial(target).then((link) => {
      if (this.#closed) {
        link.destroy();
        return undefined;
      }
      // Waiting, the link is read: the host sends nothing before the client's frames, so data or an end
      // means the spare is no good.
      const discard = () => {
        forget();
        link.destroy();
      };
      link.on('data', discard).on('end', discard).on('error', discard).once('close', forget);
      spare.unwatch = () => link.off('data', discard).off('end', discard);
      link.resume();
      return link;
    }, () => {
      forget();
      return undefined;
    });
    this.#spares.set(target.id, spare);
  }
}
