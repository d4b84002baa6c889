/**
 * Reads the shell commands of one README section: every fenced ```sh block between the section's heading
 * and the next heading of the same or a higher level is one terminal; each non-empty line is one command,
 * without its trailing comment (a `#` outside quotes that starts a word).
 */

/** One fenced sh block of the section: a terminal's commands, in order. */
export interface ReadmeTerminal {
  /** 1-based line of the block's opening fence in the README. */
  readonly line: number;
  readonly commands: string[];
}

/** The text of `line` before its comment (a `#` at the start of a word, outside quotes), trimmed. */
export function stripShellComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"') i++;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "\\") i++;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i).trim();
  }
  return line.trim();
}

/** The ```sh blocks of the section whose heading starts with `heading` (e.g. "## Quickstart"). */
export function readmeSectionCommands(readme: string, heading: string): ReadmeTerminal[] {
  const lines = readme.split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`README has no heading starting with "${heading}"`);
  const level = /^#+/.exec(heading)![0].length;
  const terminals: ReadmeTerminal[] = [];
  let block: ReadmeTerminal | undefined;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i];
    if (block === undefined) {
      const h = /^(#+)\s/.exec(l);
      if (h !== null && h[1].length <= level) break;
      if (/^```(sh|bash|shell)\s*$/.test(l)) block = { line: i + 1, commands: [] };
      continue;
    }
    if (l.startsWith("```")) {
      terminals.push(block);
      block = undefined;
      continue;
    }
    const command = stripShellComment(l);
    if (command !== "") block.commands.push(command);
  }
  if (block !== undefined) throw new Error(`README: the sh block at line ${block.line} is not closed`);
  return terminals;
}
