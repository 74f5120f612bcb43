/**
 * The server picker of `confab join` without `--server`: listens for LAN discovery beacons and lists the
 * servers heard, live, in a blessed list; Enter picks one, Escape or Ctrl-C gives up.
 */
import blessed from 'blessed';
import { ServerBrowser, type BrowserOptions, type DiscoveredServer } from '../../plugins/discovery/client.js';

/**
 * Shows the servers announcing themselves and resolves with the one picked, or undefined.
 *
 * @example
 *   const server = await pickServer();
 *   if (server) join(server.url);
 */
export async function pickServer(options: BrowserOptions = {}): Promise<DiscoveredServer | undefined> {
  const browser = new ServerBrowser(options);
  await browser.start();
  const screen = blessed.screen({ smartCSR: true, title: 'Confab: pick a server' });
  const list = blessed.list({
    parent: screen, label: ' Confab servers on this network ', top: 'center', left: 'center', width: '80%', height: '60%',
    border: 'line', keys: true, vi: true, style: { selected: { bg: 'blue' } },
  });
  blessed.box({ parent: screen, bottom: 0, height: 1, width: '100%', content: ' ↑/↓ choose · Enter join · Esc or Ctrl-C cancel · listening for beacons on UDP 5001…', style: { bg: 'white', fg: 'black' } });
  let servers: DiscoveredServer[] = [];
  const refresh = () => {
    servers = browser.servers;
    list.setItems(servers.length === 0 ? ['(none heard yet)'] : servers.map((s) => `${s.name}  ${s.host}:${s.port}  ${s.rooms} room(s)${s.auth ? '  token needed' : ''}`));
    screen.render();
  };
  browser.on('found', refresh);
  browser.on('lost', refresh);
  browser.on('updated', refresh);
  refresh();
  list.focus();
  const picked = await new Promise<DiscoveredServer | undefined>((resolve) => {
    list.on('select', (_item, index) => servers[index] && resolve(servers[index]));
    screen.key(['escape', 'C-c', 'q'], () => resolve(undefined));
  });
  screen.destroy();
  await browser.close();
  return picked;
}
