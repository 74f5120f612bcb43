/**
 * The polls panel and commands of the terminal client: the room's polls with their counts as they change,
 * `/poll "Question?" yes no` to start one, `/vote p1 2` to vote for its second option, `/closepoll p1`.
 */
import type { TerminalContext, TerminalView } from '../../../core/client/extensions.js';
import type { PollsApi } from './client.js';
import { POLLS_ERRORS, type Poll } from './protocol.js';

/** Widest bar of a count, in cells. */
const BAR_CELLS = 10;

/** The terminal view of the polls half: a panel and three commands. */
export function pollsTerminal({ api, client, changed, notice }: TerminalContext<PollsApi>): TerminalView {
  /** The option this participant voted for, by poll id (votes are anonymous: only the voter knows). */
  const voted = new Map<string, number>();
  const known = new Set<string>();
  api.on('polls', (polls) => {
    for (const poll of polls) known.add(poll.id);
    changed();
  });
  api.on('poll', (poll) => {
    if (!known.has(poll.id) && poll.createdBy.id !== client.self?.id) notice(`${poll.createdBy.name} asks "${poll.question}": /vote ${poll.id} N`);
    known.add(poll.id);
    changed();
  });
  const find = (id: string | undefined): Poll => {
    const poll = id === undefined ? undefined : api.polls.get(id);
    if (!poll) throw POLLS_ERRORS.POLLS_NO_SUCH_POLL({ message: `no poll ${JSON.stringify(id ?? '')} here; the polls panel (F3) lists them` });
    return poll;
  };

  return {
    panel: {
      title: 'Polls',
      lines: (width) => pollLines([...api.polls.values()], voted, width),
    },
    commands: [
      {
        name: 'poll',
        usage: '/poll "Question?" OPTION OPTION…',
        help: 'start a poll; quote words that belong together',
        async run([question, ...options]) {
          if (question === undefined || options.length < 2) throw POLLS_ERRORS.POLLS_BAD_REQUEST({ message: 'usage: /poll "Question?" OPTION OPTION…' });
          const poll = await api.create(question, options);
          notice(`poll ${poll.id} started: /vote ${poll.id} N`);
        },
      },
      {
        name: 'vote',
        usage: '/vote POLL N',
        help: 'vote for option N of a poll (the polls panel numbers them)',
        async run([id, number]) {
          const poll = find(id);
          const choice = Number(number) - 1;
          if (!Number.isInteger(choice) || choice < 0 || choice >= poll.options.length) {
            throw POLLS_ERRORS.POLLS_BAD_REQUEST({ message: `usage: /vote ${poll.id} N, with N from 1 to ${poll.options.length}` });
          }
          await api.vote(poll.id, choice);
          voted.set(poll.id, choice);
          changed();
        },
      },
      {
        name: 'closepoll',
        usage: '/closepoll POLL',
        help: 'close a poll you started',
        async run([id]) {
          const poll = await api.close(find(id).id);
          notice(`poll ${poll.id} closed`);
        },
      },
    ],
  };
}

/**
 * The polls as text, oldest first (a panel shows the end: the newest): each poll's id, question and state, then its options numbered for
 * /vote, with counts and bars (a ✓ on this participant's vote).
 *
 * @example
 *   pollLines([poll], new Map([['p1', 0]]), 40)
 *   // ['p1 Lunch? · open · 1 vote', ' ✓1 pizza  1 ██████████', '  2 soup   0']
 */
export function pollLines(polls: Poll[], voted: ReadonlyMap<string, number>, width: number): string[] {
  if (polls.length === 0) return ['no polls yet; /poll "Question?" yes no'];
  const cells = Math.max(0, Math.min(BAR_CELLS, width - 24));
  return polls.flatMap((poll) => {
    const votes = `${poll.total} vote${poll.total === 1 ? '' : 's'}`;
    const longest = Math.max(...poll.options.map((option) => option.length));
    return [
      `${poll.id} ${poll.question} · ${poll.open ? 'open' : 'closed'} · ${votes}`,
      ...poll.options.map((option, index) => {
        const mark = voted.get(poll.id) === index ? '✓' : ' ';
        const filled = poll.total === 0 ? 0 : Math.round((poll.counts[index]! / poll.total) * cells);
        return ` ${mark}${index + 1} ${option.padEnd(longest)}  ${poll.counts[index]}${filled > 0 ? ` ${'█'.repeat(filled)}` : ''}`;
      }),
    ];
  });
}
