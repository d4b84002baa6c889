/**
 * Writing a file atomically: readers (and a process restarted after a crash) see either the old or the new
 * content, never a torn file. The miner's state and status files and the explorer's loss cache use it.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename, fsync of the
 * directory. With `durable: false` the fsyncs are skipped: readers still never see a torn file, but a
 * power cut may lose the write (fine for a status file rewritten every second, not for secrets).
 */
export function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string,
  options: { durable?: boolean } = {},
): void {
  const durable = options.durable ?? true;
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "w", 0o600);
  try {
    const buf =
      typeof bytes === "string"
        ? Buffer.from(bytes, "utf8")
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (durable) fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw error;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (!durable) return;
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some filesystems refuse to open a directory; the rename is still atomic */
  }
}

/** `writeFileAtomic` (durable) through the thread pool: the event loop keeps running meanwhile. */
export async function writeFileAtomicAsync(path: string, bytes: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "w", 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (error) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await fh.close();
  await rename(tmp, path);
  try {
    const dh = await open(dir, "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* some filesystems refuse to open a directory; the rename is still atomic */
  }
}
