/**
 * The text of the terminal client's panels, as styled lines made from the state: the chat (messages,
 * notices, pending lines, the unread marker), the participants, the files and transfers, the meetings.
 */
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import { formatBytes } from '../progress.js';
import type { JoinState, PendingLine, TransferView } from './state.js';
import { fit, seg, type Line } from './text.js';

/** The chat as lines, oldest first: messages, notices and pending lines in time order. */
export function chatLines(state: JoinState, selfId: string | undefined): Line[] {
  const entries: Array<{ ts: number; line: Line }> = [];
  for (const message of state.messages) {
    if (message.id === state.unreadFrom) entries.push({ ts: message.ts, line: [seg('──── new messages ────', 'yellow-fg')] });
    entries.push({ ts: message.ts, line: messageLine(message, selfId) });
  }
  for (const notice of state.notices) entries.push({ ts: notice.ts, line: [seg(`${clock(notice.ts)} * ${notice.text}`, 'gray-fg')] });
  const self = selfId === undefined ? undefined : state.participants.get(selfId)?.name;
  for (const line of state.pending) entries.push({ ts: Number.MAX_SAFE_INTEGER, line: pendingLine(line, self ?? 'you') });
  // A stable sort: the marker stays before its message, pending lines stay last in the order typed.
  return entries.sort((a, b) => a.ts - b.ts).map((entry) => entry.line);
}

function messageLine(message: ChatMessage, selfId: string | undefined): Line {
  const time = seg(`${clock(message.ts)} `, 'gray-fg');
  if (message.to) {
    const who = message.from.id === selfId ? `you → ${message.to.name}` : `${message.from.name} → you`;
    return [time, seg(`${who} (private): ${message.text}`, 'magenta-fg')];
  }
  const own = message.from.id === selfId;
  return [time, seg(message.from.name, 'bold', ...(own ? ['cyan-fg'] : [])), seg(`: ${message.text}`)];
}

function pendingLine(line: PendingLine, self: string): Line {
  const who = line.to === undefined ? `${self}: ` : `you → ${line.to} (private): `;
  const state = line.failed === undefined ? seg('  … sending', 'yellow-fg') : seg(`  ✗ not sent: ${line.failed}`, 'red-fg');
  return [seg(`${clock(line.ts)} `, 'gray-fg'), seg(`${who}${line.text}`, 'gray-fg'), state];
}

/** The participants: this client first; a camera mark, and a microphone mark only when one is known of. */
export function peopleLines(state: JoinState, width: number): Line[] {
  const lines: Line[] = [[seg(`${state.participants.size} in the room`, 'gray-fg')]];
  for (const p of state.sortedParticipants()) {
    const marks: Line = [];
    if (p.camera) marks.push(seg(' cam', 'cyan-fg'));
    if (p.mic === 'muted') marks.push(seg(' ✗mic', 'red-fg'));
    else if (p.mic === 'open') marks.push(seg(' mic', 'green-fg'));
    const speaking = p.level !== undefined && p.mic !== 'muted';
    const markWidth = marks.reduce((sum, mark) => sum + Array.from(mark.text).length, 0);
    const suffix = p.self ? ' (you)' : '';
    const name = fit(p.name, Math.max(4, width - 2 - markWidth - suffix.length));
    lines.push([seg(speaking ? '◀ ' : '  ', 'green-fg'), seg(name, ...(p.self ? ['bold'] : [])), seg(suffix, 'gray-fg'), ...marks]);
  }
  return lines;
}

/** The files, numbered for /download, then the recent transfers. */
export function fileLines(state: JoinState, width: number): Line[] {
  const lines: Line[] = state.files.length === 0 ? [[seg('no files shared yet', 'gray-fg')]] : [];
  state.files.forEach((file, index) => {
    lines.push([seg(`${String(index + 1).padStart(2)}. `, 'gray-fg'), seg(file.name)]);
    lines.push([seg(`    ${formatBytes(file.size)} · ${file.from.name}${file.to ? ' · private' : ''}`, 'gray-fg')]);
  });
  if (state.transfers.length > 0) lines.push([seg('Transfers', 'bold')]);
  for (const transfer of state.transfers) lines.push(transferLine(transfer, width));
  return lines;
}

/** `▲ slides.pdf [#####...] 52%`, `done`, or `failed` (the reason is in the error line). */
function transferLine(t: TransferView, width: number): Line {
  const arrow = t.kind === 'upload' ? '▲ ' : '▼ ';
  let status: Line[number];
  if (t.status === 'failed') status = seg(' failed', 'red-fg');
  else if (t.status === 'done') status = seg(' done', 'green-fg');
  else {
    const fraction = t.total === 0 ? 0 : t.done / t.total;
    const filled = Math.round(fraction * 8);
    status = seg(` [${'#'.repeat(filled)}${'.'.repeat(8 - filled)}] ${Math.floor(fraction * 100)}%`);
  }
  return [seg(arrow), seg(fit(t.name, Math.max(6, width - arrow.length - Array.from(status.text).length))), status];
}

/** The upcoming meetings, with the year (`Tue 3 Mar 2026 14:00`). */
export function meetingLines(state: JoinState): Line[] {
  if (state.meetings.length === 0) return [[seg('none scheduled', 'gray-fg')]];
  const now = Date.now();
  return state.meetings.flatMap((m) => [
    [m.startMs <= now ? seg('now ', 'green-fg') : seg(`${longDate(m.startMs)} `, 'gray-fg'), seg(m.title)],
    [seg(`  room ${m.room} · ${m.durationMinutes} min`, 'gray-fg')],
  ]);
}

/** `14:03`, or `3 Mar 14:03` for another day than today. */
export function clock(ts: number): string {
  const date = new Date(ts);
  const time = date.toTimeString().slice(0, 5);
  if (date.toDateString() === new Date().toDateString()) return time;
  return `${date.getDate()} ${date.toLocaleString('en-GB', { month: 'short' })} ${time}`;
}

/** `Tue 3 Mar 2026 14:00` in local time. */
export function longDate(ts: number): string {
  const date = new Date(ts);
  const day = date.toLocaleString('en-GB', { weekday: 'short' });
  const month = date.toLocaleString('en-GB', { month: 'short' });
  return `${day} ${date.getDate()} ${month} ${date.getFullYear()} ${date.toTimeString().slice(0, 5)}`;
}
