/**
 * The error codes of the bots (runtime, recorder, injector, load tester), in one place. Each is thrown as a
 * `ConfabError` with the code and, where the call site knows more, a more specific message.
 */

/** Bot error codes and their default messages. */
export const BOT_ERRORS = {
  BOT_SCRIPT_INVALID: 'the bot script must `export default defineBot(async (bot) => { … })`',
  BOT_SCRIPT_FAILED: 'the bot script threw',
  BOT_NO_PLUGIN: 'the server has no plugin for this; start it with the plugin enabled',
  BOT_FFMPEG_FAILED: 'ffmpeg failed',
  BOT_INPUT_INVALID: 'the media input cannot be used',
  BOT_OPTION_INVALID: 'an option of the bot is not valid',
  BOT_OUTPUT_INVALID: 'the recorder cannot write this output (container, existing file, or directory)',
  BOT_ROOM_EMPTY: 'the room has nobody to record; check its name, or wait for someone with --wait',
  BOT_CONNECT_FAILED: 'the load tester could not connect its first participant, so it did not start',
  BOT_LEFT: 'the bot left the room; what it waited for was cancelled',
  BOT_TIMEOUT: 'what the bot waited for did not happen in time',
} as const;

/** A bot error code. */
export type BotErrorCode = keyof typeof BOT_ERRORS;
