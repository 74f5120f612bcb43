/**
 * Extracts the fenced code blocks of a Markdown page, with the attributes of their info string, so that a
 * test can write, compile and run the code a page shows (`docs/plugin-guide.md`).
 *
 *   ```ts file=plugins/reactions/server.ts
 *   …
 *   ```
 *
 * gives `{ lang: 'ts', attrs: { file: 'plugins/reactions/server.ts' }, code: '…\n', line: 12 }`.
 */

/** One fenced code block. */
export interface CodeBlock {
  /** The language tag (`ts`, `sh`…), empty when there is none. */
  lang: string;
  /** `key=value` attributes after the language; a bare word is `true`. */
  attrs: Record<string, string | true>;
  /** The block's text, each line ending in a newline. */
  code: string;
  /** The 1-based line of the opening fence, for error messages. */
  line: number;
}

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/;

/** Every fenced code block of `markdown`, in order. Throws on a block that is never closed. */
export function extractCodeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const [lang = '', ...words] = info!.trim().split(/\s+/).filter(Boolean);
    const attrs: Record<string, string | true> = {};
    for (const word of words) {
      const at = word.indexOf('=');
      if (at < 0) attrs[word] = true;
      else attrs[word.slice(0, at)] = word.slice(at + 1);
    }
    const openLine = i + 1;
    const body: string[] = [];
    let closed = false;
    for (i++; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim().startsWith(fence!) && line.trim().replace(/[`~]/g, '') === '') {
        closed = true;
        break;
      }
      body.push(line.startsWith(indent!) ? line.slice(indent!.length) : line);
    }
    if (!closed) throw new Error(`the code block opened on line ${openLine} is never closed`);
    blocks.push({ lang, attrs, code: body.map((line) => `${line}\n`).join(''), line: openLine });
  }
  return blocks;
}
