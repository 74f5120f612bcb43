/**
 * The transfers running on one server, by session: their ids, the per-session limit, the bytes uploads
 * reserve against their room's quota, and the one way a transfer ends without completing (`fail`). A
 * session's transfers go with it (per-session state); the plugin fails them first, on `sessionLeft`.
 */
import type { ConfabError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Session } from '../../core/session.js';
import type { PluginContext, StateSlot } from '../../core/types.js';
import type { Download } from './download.js';
import type { FilesHooks, TransferProgress } from './hooks.js';
import { FILES, FILES_ERRORS } from './protocol.js';
import { Upload } from './upload.js';

/** A transfer in progress on the server. */
export type Transfer = Upload | Download;

/** Transfers that ended whose ids are remembered per session, so their late chunks are ignored quietly. */
const ENDED_KEPT = 64;

/** A session's transfers. */
interface SessionTransfers {
  /** The id the next transfer gets. */
  next: number;
  active: Map<number, Transfer>;
  /** Ids of transfers that ended lately (the last ENDED_KEPT). */
  ended: number[];
}

/** A transfer's progress, as the hooks report it. */
export function progressOf(transfer: Transfer): TransferProgress {
  const { direction, session, name, size } = transfer;
  return { direction, transfer: transfer.transfer, session, name, bytes: transfer.confirmed, total: size };
}

/** The running transfers of one server. */
export class Transfers {
  readonly #bySession: StateSlot<Session, SessionTransfers>;
  /** Sessions with transfers, for the sweep and shutdown. */
  readonly #busy = new Set<Session>();
  /** Bytes reserved by uploads in progress, per room name. */
  readonly #reserved = new Map<string, number>();
  readonly #hooks: FilesHooks;
  readonly #log: Logger;
  readonly #maxPerSession: number;

  constructor(ctx: PluginContext, hooks: FilesHooks, maxPerSession: number) {
    this.#bySession = ctx.perSession((): SessionTransfers => ({ next: 1, active: new Map(), ended: [] }));
    this.#hooks = hooks;
    this.#log = ctx.log;
    this.#maxPerSession = maxPerSession;
  }

  /** The session's running transfer with this id, if any. */
  get(session: Session, id: number): Transfer | undefined {
    return this.#bySession.peek(session)?.active.get(id);
  }

  /** The session's running transfer with this id; FILES_NO_SUCH_TRANSFER otherwise. */
  find(session: Session, id: number): Transfer {
    const transfer = this.get(session, id);
    if (!transfer) throw FILES_ERRORS.FILES_NO_SUCH_TRANSFER({ message: `no transfer ${id} of this session is running` });
    return transfer;
  }

  /** The session's running transfer that the offer or get named `ref` started (that request sent again). */
  byRef(session: Session, ref: string): Transfer | undefined {
    for (const transfer of this.of(session)) if (transfer.ref === ref) return transfer;
    return undefined;
  }

  /** True when `id` named one of the session's transfers that ended lately: its late chunks are ignored. */
  endedLately(session: Session, id: number): boolean {
    return this.#bySession.peek(session)?.ended.includes(id) ?? false;
  }

  /** The session's running transfers. */
  of(session: Session): Iterable<Transfer> {
    return this.#bySession.peek(session)?.active.values() ?? [];
  }

  /** Every running upload. */
  *uploads(): Generator<Upload> {
    for (const session of this.#busy) for (const transfer of this.of(session)) if (transfer instanceof Upload) yield transfer;
  }

  /** The sessions that run transfers now. */
  sessions(): Session[] {
    return [...this.#busy];
  }

  /** Bytes the room's uploads in progress reserve against its quota. */
  reserved(room: string): number {
    return this.#reserved.get(room) ?? 0;
  }

  /** Throws FILES_TOO_MANY_TRANSFERS when the session already runs as many transfers as allowed. */
  checkLimit(session: Session): void {
    const running = this.#bySession.peek(session)?.active.size ?? 0;
    if (running >= this.#maxPerSession) {
      throw FILES_ERRORS.FILES_TOO_MANY_TRANSFERS({ message: `this session already runs ${running} transfers; the server allows ${this.#maxPerSession} at once` });
    }
  }

  /** The id the session's next transfer gets (ids are per session and never reused). */
  nextId(session: Session): number {
    return this.#bySession.get(session).next++;
  }

  /** Tracks a new transfer; an upload reserves its size in its room. */
  add(transfer: Transfer): void {
    this.#bySession.get(transfer.session).active.set(transfer.transfer, transfer);
    this.#busy.add(transfer.session);
    if (transfer instanceof Upload) {
      const room = transfer.session.room.name;
      this.#reserved.set(room, this.reserved(room) + transfer.size);
    }
  }

  /** True while the transfer is tracked (it has neither completed nor failed). */
  has(transfer: Transfer): boolean {
    return this.get(transfer.session, transfer.transfer) === transfer;
  }

  /** Stops tracking a transfer (its late chunks are then ignored) and releases an upload's reservation; false when it was not tracked. */
  forget(transfer: Transfer): boolean {
    const state = this.#bySession.peek(transfer.session);
    if (!state?.active.delete(transfer.transfer)) return false;
    state.ended.push(transfer.transfer);
    if (state.ended.length > ENDED_KEPT) state.ended.shift();
    if (state.active.size === 0) this.#busy.delete(transfer.session);
    if (transfer instanceof Upload) {
      const room = transfer.session.room.name;
      const left = this.reserved(room) - transfer.size;
      if (left > 0) this.#reserved.set(room, left);
      else this.#reserved.delete(room);
    }
    return true;
  }

  /**
   * Ends a transfer that failed: forgets it, removes an upload's temporary file or closes a download's,
   * tells the `failed` hook and, unless `tell` is false, the client (with the offer's or get's ref).
   */
  fail(transfer: Transfer, error: ConfabError, tell = true): void {
    if (!this.forget(transfer)) return;
    if (transfer instanceof Upload) void transfer.abort();
    else transfer.close();
    error.channel = FILES.name;
    error.ref = transfer.ref;
    if (this.#hooks.failed.isUsed()) this.#hooks.failed.call(progressOf(transfer), error);
    this.#log.debug('transfer failed', { transfer: transfer.transfer, session: transfer.session.id, code: error.code });
    if (tell && transfer.session.state !== 'closed') transfer.session.sendError(error);
  }

  /** Fails every transfer of a session that leaves, quietly. */
  sessionLeft(session: Session): void {
    for (const transfer of [...this.of(session)]) this.fail(transfer, FILES_ERRORS.FILES_CANCELLED({ message: 'the session left' }), false);
  }

  /** Ends every transfer (the server closes): temporary files are removed, stored files closed. */
  async closeAll(): Promise<void> {
    const all = this.sessions().flatMap((session) => [...this.of(session)]);
    this.#busy.clear();
    await Promise.all(all.map((transfer) => (transfer instanceof Upload ? transfer.abort() : transfer.close())));
  }
}
