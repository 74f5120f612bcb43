/**
 * File names from the network are never paths. `cleanFileName` turns a name a client sent into one that is
 * safe to show and to offer as a download name on Linux, macOS and Windows — or refuses it with a reason.
 * The server stores content under generated ids whatever the name; the client half cleans again before
 * it writes anything, because the server's answer is network input too. No Node imports: the browser uses it.
 */

/** Longest name kept, in UTF-8 bytes (the limit of common file systems). */
export const MAX_NAME_BYTES = 255;

/** Windows device names, reserved with any extension (`CON.txt` too) and in any case. */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
/** C0 and C1 control characters, DEL, and the bidirectional controls that can disguise an extension. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** Characters Windows does not allow in names; replaced, not refused (`a:b?.txt` → `a_b_.txt`). */
const WINDOWS_INVALID = /[<>:"|?*]/g;

/** A cleaned name, or why the name was refused. */
export type CleanName = { ok: true; name: string } | { ok: false; reason: string };

/**
 * Cleans a file name: refuses absolute paths, `..`, control characters (NUL included) and reserved device
 * names; strips the directories of a relative path (`photos/cat.jpg` → `cat.jpg`); replaces characters
 * Windows forbids with `_`; trims spaces and trailing dots; shortens to 255 UTF-8 bytes keeping the extension.
 *
 * @example
 *   cleanFileName('holiday/cat.jpg')  // { ok: true, name: 'cat.jpg' }
 *   cleanFileName('../etc/passwd')    // { ok: false, reason: 'the name contains ".."' }
 */
export function cleanFileName(raw: unknown): CleanName {
  if (typeof raw !== 'string' || raw.length === 0) return refuse('the name must be a non-empty string');
  if (raw.length > 4096) return refuse('the name is longer than 4096 characters');
  const name = raw.normalize('NFC');
  if (CONTROL.test(name)) return refuse('the name contains a control character (NUL, newline, bidi override…)');
  if (/^[/\\]/.test(name) || /^[a-zA-Z]:/.test(name)) return refuse('the name is an absolute path');
  const parts = name.split(/[/\\]/);
  if (parts.some((part) => part.trim() === '..')) return refuse('the name contains ".."');
  let base = parts[parts.length - 1].replace(WINDOWS_INVALID, '_').trim().replace(/[. ]+$/, '');
  if (base === '' || base === '.') return refuse('the name has no file name part');
  if (RESERVED.test(base)) return refuse(`"${base}" is a reserved device name on Windows`);
  base = shorten(base, MAX_NAME_BYTES);
  return { ok: true, name: base };
}

function refuse(reason: string): CleanName {
  return { ok: false, reason };
}

/** Cuts `name` to at most `maxBytes` UTF-8 bytes, keeping an extension of up to 16 characters. */
function shorten(name: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(name).length <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const room = maxBytes - encoder.encode(extension).length;
  let stem = '';
  for (const character of name.slice(0, name.length - extension.length)) {
    if (encoder.encode(stem + character).length > room) break;
    stem += character;
  }
  return stem + extension;
}
