/**
 * Writes a benchmark's generated Markdown formatted by the project's Prettier configuration, so that a
 * report written by a script passes `npm run lint` as it is (CI checks the formatting of docs/).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import * as prettier from "prettier";

export async function writeMarkdown(path: string, markdown: string): Promise<void> {
  const options = (await prettier.resolveConfig(path)) ?? {};
  const formatted = await prettier.format(markdown, { ...options, filepath: path });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, formatted);
}
