/**
 * The polls plugin's client entry: its client half, a Polls tab in the web client and a Polls panel with
 * /poll, /vote and /closepoll in the terminal client. The server half names this module (`client`), so
 * every client finds it once polls is in the plugins list.
 */
import { defineClientEntry } from '../../../core/client/entry.js';
import { pollsClient } from './client.js';
import { pollsTerminal } from './terminal.js';
import { mountPollsPanel } from './web-panel.js';

export default defineClientEntry({
  name: 'polls',
  create: () => pollsClient(),
  web: { panel: { label: 'Polls', mount: mountPollsPanel } },
  terminal: pollsTerminal,
});
