/** Output of the `pot` command: text for people, one JSON document with `--json` (bigints as strings). */

/** Where a command writes its result. */
export interface Output {
  /** `--json` was given. */
  readonly json: boolean;
  /** Prints `data` (any plain object or interface value: a status, a report) as JSON with --json, else the text lines. */
  result(data: object, text: () => string[]): void;
  /** A progress note on stderr (never with --json on stdout). */
  note(message: string): void;
}

/** JSON.stringify with bigints as decimal strings. */
export function toJson(data: unknown): string {
  return JSON.stringify(data, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}

/** An Output over the process streams. */
export function processOutput(json: boolean, quiet = false): Output {
  return {
    json,
    result(data, text) {
      process.stdout.write(json ? `${toJson(data)}\n` : `${text().join("\n")}\n`);
    },
    note(message) {
      if (!quiet) process.stderr.write(`${message}\n`);
    },
  };
}
