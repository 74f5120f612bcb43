/**
 * A file echo: when someone shares a file, the bot downloads it (the files plugin checks its SHA-256 as it
 * streams), then shares it back privately to the sender as `echo-<name>`, and says so in the chat. Handy to
 * test file transfer end to end.
 *
 *   confab bot run bots/examples/file-echo.ts --server 127.0.0.1:5000 --room lab
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineBot } from '../runtime.js';

export default defineBot(async (bot) => {
  if (!bot.has('files')) {
    await bot.say('This server has no files plugin; nothing to echo.');
    return bot.leave();
  }
  const dir = await mkdtemp(join(tmpdir(), 'confab-echo-'));
  bot.on('leave', () => void rm(dir, { recursive: true, force: true }));
  await bot.say('Share a file and I will send it back to you.');

  bot.files.on('file', (file) => {
    if (file.from.id === bot.self.id) return;
    void (async () => {
      const path = join(dir, file.id);
      await bot.files.download(file.id, path).done;
      const echoed = await bot.files.upload(path, { to: file.from.id, name: `echo-${file.name}` }).done;
      await bot.say(`Echoed ${file.name} (${file.size} bytes, sha256 ${echoed.sha256.slice(0, 12)}…) back to you.`, { to: file.from.id });
    })().catch((error: Error) => bot.log(`echo of ${file.name} failed: ${error.message}`));
  });
});
