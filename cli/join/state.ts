/**
 * What the terminal client shows, kept apart from drawing it: participants (camera, and microphone only
 * when their audio says something), the chat with this client's own lines pending until acknowledged, the
 * unread count, the errors, the files with transfer progress, and the upcoming meetings. The client's events
 * update it; the UI reads it when it redraws. `changed` counts updates so the UI redraws only on a change.
 */
import type { Meeting } from '../../plugins/scheduler/protocol.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import type { FileInfo } from '../../plugins/files/client-node.js';

/** A participant as the list shows it. */
export interface ParticipantView {
  id: string;
  name: string;
  self: boolean;
  camera: boolean;
  /** Known only from the audio mix: `muted`, `open`, or undefined (no microphone heard of: a terminal). */
  mic?: 'muted' | 'open';
  /** Level in dBFS when speaking, else undefined. */
  level?: number;
}

/** A transfer in progress (or finished) for the files panel. */
export interface TransferView {
  kind: 'upload' | 'download';
  name: string;
  done: number;
  total: number;
  status: 'running' | 'done' | 'failed';
}

/** A line this client sent that the server has not acknowledged yet (or refused). */
export interface PendingLine {
  text: string;
  /** The recipient's name, for a private message. */
  to?: string;
  ts: number;
  /** Why it was not sent, once the server refused it. */
  failed?: string;
}

/** A line of status in the chat (someone joined, a download finished). */
export interface Notice {
  ts: number;
  text: string;
}

/** Above this level (dBFS) a participant counts as speaking. */
export const SPEAKING_DBFS = -50;
/** Chat lines kept. */
const KEPT_MESSAGES = 1000;
/** Notices and errors kept. */
const KEPT_NOTICES = 200;

/** The room as the terminal client knows it. */
export class JoinState {
  readonly participants = new Map<string, ParticipantView>();
  /** Chat messages, oldest first, each once (by id). */
  readonly messages: ChatMessage[] = [];
  readonly pending = new Set<PendingLine>();
  readonly notices: Notice[] = [];
  /** Every error, oldest first; the UI shows the newest in its one error line. */
  readonly errors: Notice[] = [];
  readonly files: FileInfo[] = [];
  readonly transfers: TransferView[] = [];
  meetings: Meeting[] = [];
  /** Messages from others that arrived while the end of the chat was out of view. */
  unread = 0;
  /** The id of the first of them: the unread marker goes before it (kept until this client next sends). */
  unreadFrom: string | undefined;
  /** Bumped on every change. */
  changed = 0;
  #seenIds = new Set<string>();

  /** Adds (or renames) a participant. */
  addParticipant(id: string, name: string, self = false): void {
    const known = this.participants.get(id);
    this.participants.set(id, { id, name, self, camera: known?.camera ?? false, mic: known?.mic, level: known?.level });
    this.changed++;
  }

  /** Removes a participant who left. */
  removeParticipant(id: string): void {
    if (this.participants.delete(id)) this.changed++;
  }

  /** Forgets every participant (a rejoin starts a new session: everyone has a new id). */
  clearParticipants(): void {
    this.participants.clear();
    this.changed++;
  }

  /** What the audio mix says of a participant's microphone. */
  setMuted(id: string, muted: boolean): void {
    const participant = this.participants.get(id);
    const mic = muted ? 'muted' : 'open';
    if (!participant || participant.mic === mic) return;
    participant.mic = mic;
    this.changed++;
  }

  /** Whether a participant's camera is on. */
  setCamera(id: string, on: boolean): void {
    const participant = this.participants.get(id);
    if (!participant || participant.camera === on) return;
    participant.camera = on;
    this.changed++;
  }

  /** Levels in dBFS by participant id; below SPEAKING_DBFS is silence. Someone heard has a microphone. */
  setLevels(levels: Record<string, number>): void {
    for (const [id, level] of Object.entries(levels)) {
      const participant = this.participants.get(id);
      if (!participant) continue;
      participant.level = level > SPEAKING_DBFS ? level : undefined;
      participant.mic ??= 'open';
    }
    this.changed++;
  }

  /**
   * Adds a message (once: a re-sent one, or one the history brings again, is skipped). `inView` says whether
   * the end of the chat is on screen; if not, a message from someone else counts as unread.
   */
  addMessage(message: ChatMessage, inView: boolean, selfId?: string): void {
    if (this.#seenIds.has(message.id)) return;
    this.#seenIds.add(message.id);
    // In time order: history that fills a gap goes before what arrived since.
    let at = this.messages.length;
    while (at > 0 && this.messages[at - 1]!.ts > message.ts) at--;
    this.messages.splice(at, 0, message);
    if (this.messages.length > KEPT_MESSAGES) {
      for (const gone of this.messages.splice(0, this.messages.length - KEPT_MESSAGES)) this.#seenIds.delete(gone.id);
    }
    if (!inView && message.from.id !== selfId) {
      this.unread++;
      this.unreadFrom ??= message.id;
    }
    this.changed++;
  }

  /** The history the server sends on join: merged with what is shown, so a rejoin fills the gap. */
  addHistory(messages: ChatMessage[]): void {
    for (const message of messages) this.addMessage(message, true);
  }

  /** The end of the chat is in view: nothing is unread (the marker stays where it was). */
  markRead(): void {
    if (this.unread === 0) return;
    this.unread = 0;
    this.changed++;
  }

  /** Shows a line as pending until `settle` removes it (acknowledged) or marks it failed. */
  addPending(text: string, to?: string): PendingLine {
    const line: PendingLine = { text, ts: Date.now() };
    if (to !== undefined) line.to = to;
    this.pending.add(line);
    this.unreadFrom = undefined;
    this.changed++;
    return line;
  }

  /** The server acknowledged a pending line (it is in `messages` now), or refused it (`error`). */
  settle(line: PendingLine, error?: string): void {
    if (error === undefined) this.pending.delete(line);
    else line.failed = error;
    this.changed++;
  }

  /** Adds a line of status to the chat (not an error: those go to `error`). */
  notice(text: string): void {
    this.notices.push({ ts: Date.now(), text });
    if (this.notices.length > KEPT_NOTICES) this.notices.shift();
    this.changed++;
  }

  /** Records an error: the one place errors are shown is the UI's error line. */
  error(text: string): void {
    this.errors.push({ ts: Date.now(), text });
    if (this.errors.length > KEPT_NOTICES) this.errors.shift();
    this.changed++;
  }

  /** Adds a shared file (once, by id), newest last. */
  addFile(file: FileInfo): void {
    if (this.files.some((known) => known.id === file.id)) return;
    this.files.push(file);
    this.changed++;
  }

  /** Forgets a deleted or expired file. */
  removeFile(id: string): void {
    const index = this.files.findIndex((file) => file.id === id);
    if (index >= 0) this.files.splice(index, 1);
    this.changed++;
  }

  /** Starts tracking a transfer; update its fields and call `touch()`. */
  addTransfer(transfer: TransferView): TransferView {
    this.transfers.push(transfer);
    if (this.transfers.length > 20) this.transfers.shift();
    this.changed++;
    return transfer;
  }

  /** The upcoming meetings (those already over are left out). */
  setMeetings(meetings: Meeting[]): void {
    this.meetings = meetings.filter((meeting) => meeting.startMs + meeting.durationMinutes * 60_000 > Date.now());
    this.changed++;
  }

  /** Marks a change made directly on a view object. */
  touch(): void {
    this.changed++;
  }

  /** Participants in display order: this client first, then by name. */
  sortedParticipants(): ParticipantView[] {
    return [...this.participants.values()].sort((a, b) => (a.self === b.self ? a.name.localeCompare(b.name) : a.self ? -1 : 1));
  }

  /** Finds a participant by name (exact, then case-insensitive prefix when unique). */
  findByName(name: string): ParticipantView | undefined {
    const all = [...this.participants.values()];
    const exact = all.find((p) => p.name === name);
    if (exact) return exact;
    const matches = all.filter((p) => p.name.toLowerCase().startsWith(name.toLowerCase()));
    return matches.length === 1 ? matches[0] : undefined;
  }
}
