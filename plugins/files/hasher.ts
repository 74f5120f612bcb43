/**
 * Incremental SHA-256 for the files client in browsers, from hash-wasm (WebAssembly, inlined in its
 * module, so the esbuild bundle of the web client carries it): WebCrypto hashes only whole buffers, and a
 * download is verified while it streams. Node uses `node:crypto` instead (client-node.ts).
 */
import { createSHA256 } from 'hash-wasm';

/** Something that hashes bytes fed to it in pieces. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  /** The digest of everything fed so far, as 64 lowercase hex digits. Call once. */
  digest(): string;
}

/**
 * Creates a SHA-256 hasher (the first one compiles the WebAssembly module, which later ones reuse).
 *
 * @example
 *   const hash = await createSha256();
 *   hash.update(new TextEncoder().encode('abc'));
 *   hash.digest(); // 'ba7816bf…'
 */
export async function createSha256(): Promise<Hasher> {
  const hasher = await createSHA256();
  return {
    update: (bytes) => void hasher.update(bytes),
    digest: () => hasher.digest('hex'),
  };
}
