/**
 * What the terminal client shows, kept apart from drawing it: participants with their mic, camera and
 * speaking state, the chat, the files with transfer progress, and the upcoming meetings. The plugin client
 * halves update it; the UI reads it when it redraws. `changed` counts updates so the UI redraws only when
 * something changed.
 */
import type { Meeting } from '../../plugins/scheduler/protocol.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import type { FileInfo } from '../../plugins/files/client-node.js';

/** A participant as the list shows it. */
export interface ParticipantView {
  id: string;
  name: string;
  self: boolean;
  muted: boolean;
  camera: boolean;
  /** Level in dBFS when speaking, else undefined. */
  level?: number;
}

/** A transfer in progress (or finished) for the files panel. */
export interface TransferView {
  kind: 'upload' | 'download';
  name: string;
  done: number;
  total: number;
  /** `running`, `done`, or the error message. */
  status: string;
}

/** Above this level (dBFS) a participant counts as speaking. */
export const SPEAKING_DBFS = -50;
/** Chat lines kept. */
const KEPT_MESSAGES = 500;

/** The room as the terminal client knows it. */
export class JoinState {
  readonly participants = new Map<string, ParticipantView>();
  readonly messages: ChatMessage[] = [];
  readonly files: FileInfo[] = [];
  readonly transfers: TransferView[] = [];
  meetings: Meeting[] = [];
  /** Lines of status (joined, errors) shown in the chat log in another colour. */
  readonly notices: Array<{ ts: number; text: string }> = [];
  /** Bumped on every change. */
  changed = 0;

  /** Adds (or renames) a participant. */
  addParticipant(id: string, name: string, self = false): void {
    const known = this.participants.get(id);
    this.participants.set(id, { id, name, self, muted: known?.muted ?? false, camera: known?.camera ?? false, level: known?.level });
    this.changed++;
  }

  removeParticipant(id: string): void {
    if (this.participants.delete(id)) this.changed++;
  }

  setMuted(id: string, muted: boolean): void {
    const participant = this.participants.get(id);
    if (!participant || participant.muted === muted) return;
    participant.muted = muted;
    this.changed++;
  }

  setCamera(id: string, on: boolean): void {
    const participant = this.participants.get(id);
    if (!participant || participant.camera === on) return;
    participant.camera = on;
    this.changed++;
  }

  /** Levels in dBFS by participant id; below SPEAKING_DBFS is silence. */
  setLevels(levels: Record<string, number>): void {
    for (const [id, level] of Object.entries(levels)) {
      const participant = this.participants.get(id);
      if (!participant) continue;
      participant.level = level > SPEAKING_DBFS ? level : undefined;
    }
    this.changed++;
  }

  addMessage(message: ChatMessage): void {
    this.messages.push(message);
    if (this.messages.length > KEPT_MESSAGES) this.messages.splice(0, this.messages.length - KEPT_MESSAGES);
    this.changed++;
  }

  setHistory(messages: ChatMessage[]): void {
    this.messages.splice(0, this.messages.length, ...messages.slice(-KEPT_MESSAGES));
    this.changed++;
  }

  notice(text: string): void {
    this.notices.push({ ts: Date.now(), text });
    if (this.notices.length > 100) this.notices.shift();
    this.changed++;
  }

  addFile(file: FileInfo): void {
    if (this.files.some((known) => known.id === file.id)) return;
    this.files.push(file);
    this.changed++;
  }

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
