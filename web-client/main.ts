/**
 * The browser client (a first version: join a room and chat). Uses the browser build of the client SDK
 * over WebSocket at /ws on the page's own host and port; bundled by esbuild and served by the `web` plugin.
 */
import { ConfabClient, type ConfabError } from '../core/client/browser.js';
import { chatClient, type ChatApi } from '../plugins/chat/client.js';
import type { ChatMessage } from '../plugins/chat/protocol.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const nameInput = $<HTMLInputElement>('name');
const roomInput = $<HTMLInputElement>('room');
const status = $<HTMLParagraphElement>('status');
const messages = $<HTMLOListElement>('messages');
const peersList = $<HTMLUListElement>('peers');
const toSelect = $<HTMLSelectElement>('to');
const errorLine = $<HTMLParagraphElement>('error');

nameInput.value = localStorage.getItem('confab.name') ?? '';
roomInput.value = new URLSearchParams(location.search).get('room') ?? localStorage.getItem('confab.room') ?? 'default';

let client: ConfabClient | undefined;
let chat: ChatApi | undefined;

$<HTMLFormElement>('join').addEventListener('submit', (event) => {
  event.preventDefault();
  void join(nameInput.value.trim(), roomInput.value.trim());
});

$<HTMLFormElement>('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('text');
  const text = input.value;
  if (!chat || text.trim() === '') return;
  input.value = '';
  chat.send(text, toSelect.value ? { to: toSelect.value } : {}).catch((error: ConfabError) => {
    errorLine.textContent = `Not sent: ${error.message}`;
    input.value = text;
  });
});

$<HTMLButtonElement>('leave').addEventListener('click', () => void client?.close());

async function join(name: string, room: string): Promise<void> {
  localStorage.setItem('confab.name', name);
  localStorage.setItem('confab.room', room);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  client = new ConfabClient({ url: `${scheme}://${location.host}/ws`, name, room });
  chat = client.use(chatClient());
  chat.on('history', (history) => {
    messages.replaceChildren();
    for (const message of history) showMessage(message);
  });
  chat.on('message', showMessage);
  client.on('peerJoined', showPeers);
  client.on('peerLeft', showPeers);
  client.on('resumed', () => setStatus('Connected'));
  client.on('reconnecting', ({ attempt }) => setStatus(`Connection lost, reconnecting (attempt ${attempt})…`));
  client.on('serverError', (error) => (errorLine.textContent = error.message));
  client.on('close', ({ reason, error }) => {
    setStatus(error ? `Disconnected: ${error.message}` : `Left (${reason})`);
    $('meeting').hidden = true;
    $('join').hidden = false;
  });
  setStatus('Connecting…');
  try {
    await client.connect();
  } catch (error) {
    setStatus(`Could not join: ${(error as Error).message}`);
    return;
  }
  setStatus(`Connected as ${client.self!.name}`);
  $('room-name').textContent = client.self!.room;
  $('join').hidden = true;
  $('meeting').hidden = false;
  showPeers();
  $<HTMLInputElement>('text').focus();
}

function setStatus(text: string): void {
  status.textContent = text;
}

function showPeers(): void {
  if (!client) return;
  const peers = [...client.peers.values()];
  peersList.replaceChildren(...[client.self!, ...peers].map((peer) => {
    const item = document.createElement('li');
    item.textContent = peer.id === client!.self!.id ? `${peer.name} (you)` : peer.name;
    return item;
  }));
  const selected = toSelect.value;
  toSelect.replaceChildren(new Option('Everyone', ''), ...peers.map((peer) => new Option(peer.name, peer.id)));
  toSelect.value = peers.some((peer) => peer.id === selected) ? selected : '';
}

function showMessage(message: ChatMessage): void {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.dateTime = new Date(message.ts).toISOString();
  time.textContent = new Date(message.ts).toLocaleTimeString();
  const who = document.createElement('strong');
  who.textContent = message.to ? `${message.from.name} → ${message.to.name}: ` : `${message.from.name}: `;
  if (message.to) item.className = 'private';
  item.append(time, who, document.createTextNode(message.text));
  messages.append(item);
  messages.scrollTop = messages.scrollHeight;
}
