/**
 * Child processes of a devnet: each one's stdout and stderr go to a log file (one line per line, as the
 * process wrote it) and to an in-memory tail; JSON lines are parsed for listeners. `stop()` sends SIGTERM,
 * then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, createWriteStream, fstatSync, openSync, readSync, type WriteStream } from "node:fs";

/** A parsed JSON log line of a child (`msg`, `level`, ... as src/miner/log.ts writes them). */
export type LogRecord = Record<string, unknown>;

/** How to start a managed child. */
export interface SpawnOptions {
  /** A short name for messages, e.g. "miner-1". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Every line of stdout and stderr is appended here. */
  readonly logFile: string;
  /** Lines kept in memory for `tail()` (default 400). */
  readonly tailLines?: number;
  /**
   * Write stdout and stderr straight to `logFile` (the child holds the file descriptor; no pipe through this
   * process). For chatty children whose writes must never depend on this process's event loop (the hardhat
   * node logs every JSON-RPC call, synchronously on a pipe): `tail()` then reads the file's end, and
   * `onOutput` listeners see nothing.
   */
  readonly direct?: boolean;
}

/** A child process whose output is logged to a file and kept as a tail. */
export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];
  private readonly keep: number;
  private readonly out: WriteStream | undefined;
  private readonly lineListeners = new Set<(line: string, record?: LogRecord) => void>();
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(o: SpawnOptions) {
    this.name = o.name;
    this.logFile = o.logFile;
    this.keep = o.tailLines ?? 400;
    let fd: number | undefined;
    if (o.direct === true) {
      fd = openSync(o.logFile, "a");
      this.out = undefined;
    } else this.out = createWriteStream(o.logFile, { flags: "a" });
    this.child = spawn(o.command, [...o.args], {
      cwd: o.cwd,
      env: o.env,
      stdio: fd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", fd, fd],
    });
    if (fd !== undefined) closeSync(fd); // the child has its own copy
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once("error", (error) => {
        this.onLine(`[devnet] could not start ${o.command}: ${error.message}`);
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
    });
    const splitter = () => {
      let buffer = "";
      return (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim() !== "") this.onLine(line);
        }
      };
    };
    this.child.stdout?.on("data", splitter());
    this.child.stderr?.on("data", splitter());
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The exit code and signal once it exited. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exit;
  }

  /** The last `n` output lines. */
  tail(n = 30): string[] {
    if (this.out === undefined) return readFileTail(this.logFile, n);
    return this.lines.slice(-n);
  }

  /** Every output line kept in memory, parsed as JSON where it is JSON. */
  records(): LogRecord[] {
    const lines = this.out === undefined ? readFileTail(this.logFile, this.keep) : this.lines;
    return lines.map(parseJsonLine).filter((r): r is LogRecord => r !== undefined);
  }

  /** Calls `fn` for every line from now on (`record` when the line is a JSON object). Returns an unsubscribe. */
  onOutput(fn: (line: string, record?: LogRecord) => void): () => void {
    this.lineListeners.add(fn);
    return () => this.lineListeners.delete(fn);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.running) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (this.running) this.child.kill("SIGKILL");
      }, graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    const out = this.out;
    if (out !== undefined) await new Promise<void>((resolve) => out.end(resolve));
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
    this.out?.write(line + "\n");
    const record = parseJsonLine(line);
    for (const fn of this.lineListeners) {
      try {
        fn(line, record);
      } catch {
        // a listener's failure must not break the log pipe
      }
    }
  }
}

/** The last `n` non-empty lines of a file (reads at most its last 256 KiB). */
export function readFileTail(file: string, n: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    const length = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    return buf
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(-n);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The line as a JSON object, or undefined. */
export function parseJsonLine(line: string): LogRecord | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command to completion, logging to `logFile`; resolves with its stdout lines, rejects on a non-zero exit. */
export async function runToCompletion(o: SpawnOptions, timeoutMs = 180_000): Promise<string[]> {
  const p = new ManagedProcess(o);
  const stdout: string[] = [];
  p.child.stdout!.on("data", (c: Buffer) => stdout.push(c.toString()));
  const timer = setTimeout(() => void p.stop(2_000), timeoutMs);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  await p.stop();
  if (code !== 0) {
    throw new Error(
      `${o.name} failed (exit ${code ?? signal}${signal === "SIGTERM" ? `, timed out after ${timeoutMs} ms` : ""}). ` +
        `Its log (${o.logFile}) ends with:\n  ${p.tail(20).join("\n  ")}`,
    );
  }
  return stdout
    .join("")
    .split("\n")
    .filter((l) => l.trim() !== "");
}
