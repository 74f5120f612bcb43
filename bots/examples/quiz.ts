/**
 * A quiz master: asks a few questions in the chat, gives each 20 seconds (`-- --seconds=N` to change it),
 * takes the first right answer, keeps the score and announces the winner, then leaves.
 *
 *   confab bot run bots/examples/quiz.ts --server 127.0.0.1:5000 --room lab -- --seconds=15
 */
import { defineBot } from '../runtime.js';

const QUESTIONS = [
  { question: 'What is the capital of Australia?', answers: ['canberra'] },
  { question: 'How many bits are in a byte?', answers: ['8', 'eight'] },
  { question: 'Which planet is closest to the sun?', answers: ['mercury'] },
  { question: 'What does the L in LAN stand for?', answers: ['local'] },
];

export default defineBot(async (bot) => {
  const seconds = Number(bot.args.seconds ?? 20);
  const scores = new Map<string, number>();
  await bot.say(`Quiz time! ${QUESTIONS.length} questions, ${seconds} s each. Answer in the chat.`);

  for (const [index, { question, answers }] of QUESTIONS.entries()) {
    await bot.say(`Q${index + 1}: ${question}`);
    try {
      const right = await bot.nextMessage((m) => answers.includes(m.text.trim().toLowerCase()), seconds * 1000);
      scores.set(right.from.name, (scores.get(right.from.name) ?? 0) + 1);
      await bot.say(`Correct, ${right.from.name}!`);
    } catch (error) {
      if ((error as { code?: string }).code !== 'BOT_TIMEOUT') throw error;
      await bot.say(`Time is up: the answer was ${answers[0]}.`);
    }
  }

  const ranking = [...scores.entries()].sort((a, b) => b[1] - a[1]);
  if (ranking.length === 0) await bot.say('Nobody scored. Better luck next time!');
  else await bot.say(`Scores: ${ranking.map(([name, score]) => `${name} ${score}`).join(', ')}. Well done, ${ranking[0]![0]}!`);
  await bot.leave();
});
