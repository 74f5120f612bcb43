/**
 * The chat tab: the room's messages with times, private messages marked, a composer with a recipient
 * picker, and an unread count while the chat is out of sight.
 */
import type { ChatApi } from '../../plugins/chat/client.js';
import type { ChatMessage } from '../../plugins/chat/protocol.js';
import type { Peer } from '../../core/client/browser.js';
import { byId, formatTime, h } from '../dom.js';

/** The chat tab, bound to one chat client half. */
export class ChatPanel {
  readonly #chat: ChatApi;
  readonly #selfId: () => string | undefined;
  readonly #isVisible: () => boolean;
  readonly #onUnread: (count: number) => void;
  readonly #list = byId<HTMLOListElement>('messages');
  readonly #to = byId<HTMLSelectElement>('to');
  readonly #input = byId<HTMLInputElement>('text');
  readonly #error = byId('chat-error');
  #unread = 0;

  constructor(chat: ChatApi, options: { selfId: () => string | undefined; isVisible: () => boolean; onUnread: (count: number) => void; signal: AbortSignal }) {
    this.#chat = chat;
    this.#selfId = options.selfId;
    this.#isVisible = options.isVisible;
    this.#onUnread = options.onUnread;
    chat.on('history', (messages) => {
      this.#list.replaceChildren(...messages.map((message) => this.#render(message)));
      this.#scroll();
    });
    chat.on('message', (message) => this.#add(message));
    byId<HTMLFormElement>('composer').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#send();
    }, { signal: options.signal });
    this.#list.replaceChildren();
    this.#error.textContent = '';
  }

  /** Updates the recipient picker with the room's participants. */
  setPeers(peers: Peer[]): void {
    const selected = this.#to.value;
    this.#to.replaceChildren(new Option('Everyone', ''), ...peers.map((peer) => new Option(peer.name, peer.id)));
    this.#to.value = peers.some((peer) => peer.id === selected) ? selected : '';
  }

  /** Sends privately to this peer next (from the People tab). */
  messagePeer(peerId: string): void {
    this.#to.value = peerId;
    this.#input.focus();
  }

  /** The chat became visible: nothing is unread any more. */
  markRead(): void {
    this.#unread = 0;
    this.#onUnread(0);
  }

  async #send(): Promise<void> {
    const text = this.#input.value;
    if (text.trim() === '') return;
    this.#input.value = '';
    this.#error.textContent = '';
    try {
      await this.#chat.send(text, this.#to.value ? { to: this.#to.value } : {});
    } catch (error) {
      this.#error.textContent = `Not sent: ${(error as Error).message}`;
      if (this.#input.value === '') this.#input.value = text;
    }
  }

  #add(message: ChatMessage): void {
    const atBottom = this.#list.scrollHeight - this.#list.scrollTop - this.#list.clientHeight < 40;
    this.#list.append(this.#render(message));
    if (atBottom || message.from.id === this.#selfId()) this.#scroll();
    if (message.from.id !== this.#selfId() && !this.#isVisible()) this.#onUnread(++this.#unread);
  }

  #render(message: ChatMessage): HTMLLIElement {
    const own = message.from.id === this.#selfId();
    const who = message.to ? `${message.from.name} → ${message.to.name} (private)` : message.from.name;
    return h('li', { class: [own ? 'own' : '', message.to ? 'private' : ''].join(' ').trim() || undefined },
      h('span', { class: 'who' }, who),
      h('time', { datetime: new Date(message.ts).toISOString() }, formatTime(message.ts)),
      h('div', { class: 'text' }, message.text));
  }

  #scroll(): void {
    this.#list.scrollTop = this.#list.scrollHeight;
  }
}
