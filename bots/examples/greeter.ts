/**
 * A greeter: welcomes everyone who joins, answers `!help`, `!time` and `!who`, and shows a test card as its
 * camera when the server relays video.
 *
 *   confab bot run bots/examples/greeter.ts --server 127.0.0.1:5000 --room lab
 */
import { defineBot } from '../runtime.js';

export default defineBot(async (bot) => {
  if (bot.has('video')) bot.showTestCard({ fps: 2 });
  await bot.say(`Hello! I'm ${bot.self.name}. Type !help for what I can do.`);

  bot.on('peerJoined', (peer) => void bot.say(`Welcome to ${bot.self.room}, ${peer.name}!`));
  bot.on('peerLeft', (peer) => void bot.say(`Goodbye, ${peer.name}.`));
  bot.on('message', (message) => {
    // Private questions get private answers.
    const to = message.to ? { to: message.from.id } : {};
    const command = message.text.trim().toLowerCase();
    if (command === '!help') void bot.say('!time: the time here · !who: who is in the room', to);
    else if (command === '!time') void bot.say(`It is ${new Date().toLocaleTimeString('en-GB')}.`, to);
    else if (command === '!who') {
      const names = [...bot.peers.values()].map((peer) => peer.name);
      void bot.say(`In ${bot.self.room}: ${[bot.self.name, ...names].join(', ')}`, to);
    }
  });
});
