import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `pot-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` and returns what it threw (fails the test if nothing was thrown). */
export async function caught(fn: () => Promise<unknown>): Promise<Error & { code?: string; cid?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string; cid?: string };
  }
  throw new Error("expected the call to throw, it returned normally");
}

/** A CIDv1 raw block nobody has (sha256 of "pot: never published 42"). */
export const NEVER_PUBLISHED_CID = "bafkreih6okluymryxtd72fgpid5o4qbfibedmbjjfkavlhqtlibh4wrswq";
