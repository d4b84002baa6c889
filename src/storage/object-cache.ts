/**
 * A content-addressed cache of small objects on disk (`<dir>/<cid>`), so that a command that needs one
 * document it read before (`pot job status` and the job document) does not start an IPFS node. The cache
 * is never trusted: every read hashes the bytes against the CID they are filed under (a single raw block:
 * its sha2-256; a larger UnixFS file: the CID `ipfs add --cid-version 1` gives them) and a file that does
 * not match is removed and reported as a miss. A torn or tampered file is therefore harmless, so writes
 * need not be atomic.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { computeCid, parseCid, RAW_CODEC, verifyBlock } from "./cid";

/** Objects larger than this are not cached (job documents are a few KB). */
export const DEFAULT_OBJECT_CACHE_MAX_BYTES = 1024 * 1024;

/** Options of an `ObjectCache`. */
export interface ObjectCacheOptions {
  /** Largest object kept, bytes (default DEFAULT_OBJECT_CACHE_MAX_BYTES). */
  readonly maxBytes?: number;
}

/** Verified small-object cache in one directory (see the file). */
export class ObjectCache {
  readonly maxBytes: number;

  constructor(
    readonly dir: string,
    options: ObjectCacheOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_OBJECT_CACHE_MAX_BYTES;
  }

  /** The object filed under `cid` if it is there and its bytes hash to `cid`; undefined otherwise. */
  async get(cid: string): Promise<Uint8Array | undefined> {
    const path = this.pathOf(cid);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch {
      return undefined;
    }
    if (await matchesCid(cid, bytes)) return bytes;
    await rm(path, { force: true });
    return undefined;
  }

  /** Files `bytes` under `cid` (objects above `maxBytes` and bytes that do not hash to `cid` are skipped). */
  async put(cid: string, bytes: Uint8Array): Promise<boolean> {
    if (bytes.byteLength > this.maxBytes || !(await matchesCid(cid, bytes))) return false;
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.pathOf(cid), bytes);
    return true;
  }

  private pathOf(cid: string): string {
    // The canonical CIDv1 base32 string: one file per content, whatever form the caller gave.
    return join(this.dir, parseCid(cid).toV1().toString());
  }
}

/** Whether `bytes` are the content `cid` names. */
async function matchesCid(cid: string, bytes: Uint8Array): Promise<boolean> {
  const parsed = parseCid(cid);
  if (parsed.code === RAW_CODEC) {
    try {
      verifyBlock(parsed, bytes);
      return true;
    } catch {
      return false;
    }
  }
  return (await computeCid(bytes)) === parsed.toV1().toString();
}
