/**
 * Logs of the miner, on stderr by default, in one of two formats:
 * - `text` (for people): `12:03:04 declared job=1 stage=2 tx=0x...`, amounts with their unit;
 * - `json` (for programs; `pot miner start --json` or `--log-format json`): one JSON object per line
 *   (`ts`, `level`, `msg`, plus fields; bigints and amounts as decimal wei strings).
 * src/config has the level setting but no logger yet; this is the miner's until one exists there.
 */
import type { LogLevel } from "../config/types";

/** How log lines are written. */
export type LogFormat = "text" | "json";

/** The log formats, for option parsing. */
export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

/** An amount of wei in a log field: JSON shows the wei, text shows it in its unit. */
export class LogAmount {
  constructor(
    readonly wei: bigint,
    readonly unit: "ETH" | "POT",
  ) {}
  toJSON(): string {
    return this.wei.toString();
  }
  toString(): string {
    // viem is loaded on first use: the `pot` command loads this module to register `miner start`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { formatUnits } = require("viem") as typeof import("viem");
    return `${formatUnits(this.wei, 18)} ${this.unit}`;
  }
}

/** `wei` of POT (the token) as a log field. */
export const potAmount = (wei: bigint) => new LogAmount(wei, "POT");
/** `wei` of ETH (the native coin) as a log field. */
export const ethAmount = (wei: bigint) => new LogAmount(wei, "ETH");

/** A structured logger. */
export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return value.message.split("\n")[0];
  return value;
}

/** `hh:mm:ss` of local time: the prefix of every text line of a long-running command. */
export function clock(at: Date = new Date()): string {
  return at.toTimeString().slice(0, 8);
}

/** A field value in a text line: strings bare (quoted when they hold spaces), the rest compact. */
function textValue(value: unknown): string {
  if (typeof value === "string") return /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === "bigint" || value instanceof LogAmount) return value.toString();
  if (value instanceof Error) return JSON.stringify(value.message.split("\n")[0]);
  if (Array.isArray(value)) return value.map(textValue).join(",");
  return JSON.stringify(value, (_k, v) => jsonSafe(v)) ?? String(value);
}

/**
 * One text line: local time, the level unless info, the message, then `key=value` for each field. The
 * `base` fields (the same on every line, e.g. the miner's address) are left out.
 */
export function formatTextLine(
  at: Date,
  level: LogLevel,
  msg: string,
  fields: Record<string, unknown> = {},
): string {
  const parts = [clock(at)];
  if (level !== "info") parts.push(level.toUpperCase());
  parts.push(msg);
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${textValue(v)}`);
  return parts.join(" ");
}

/** A logger at `level` in `format` (default JSON lines), writing to `write` (default: stderr). */
export function createLogger(
  level: LogLevel = "info",
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(line),
  format: LogFormat = "json",
): Logger {
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] > RANK[level]) return;
    const at = new Date();
    if (format === "text") {
      write(`${formatTextLine(at, lvl, msg, fields)}\n`);
      return;
    }
    const record = { ts: at.toISOString(), level: lvl, msg, ...base, ...fields };
    write(`${JSON.stringify(record, (_k, v) => jsonSafe(v))}\n`);
  };
  return {
    error: (m, f) => emit("error", m, f),
    warn: (m, f) => emit("warn", m, f),
    info: (m, f) => emit("info", m, f),
    debug: (m, f) => emit("debug", m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write, format),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};
