/**
 * Progress of the long `pot` commands (verify, job status --loss, job fetch, job create uploads) on one line
 * of stderr: a spinner with the elapsed time while the length of the work is unknown, a bar once it is
 * known. Only on a terminal and without --json: on a pipe or a file nothing extra is written.
 */

/** The part of cli-progress (which ships no types) used here. */
interface Bar {
  setTotal(total: number): void;
  update(value: number, payload?: Record<string, unknown>): void;
}
interface MultiBar {
  create(total: number, value: number, payload: Record<string, unknown>, options: { format: string }): Bar;
  log(text: string): void;
  stop(): void;
}

/** What a command reports while it works. */
export interface Progress {
  /** A step of unknown length: a spinner, the label and the elapsed time. */
  step(label: string): void;
  /** A counted step: a bar with `done` of `total` and what is being done. */
  count(label: string, done: number, total: number, what?: string): void;
  /** A line of text above the progress line (it is redrawn below it). */
  log(message: string): void;
  /** Removes the progress line. Idempotent; the next step or count shows it again. */
  stop(): void;
}

/** Progress that writes nothing (pipes, --json, tests). */
export const silentProgress: Progress = {
  step: () => undefined,
  count: () => undefined,
  log: (message) => process.stderr.write(`${message}\n`),
  stop: () => undefined,
};

const FRAMES = ["|", "/", "-", "\\"];

/** Progress on `stream` when `enabled` and the stream is a terminal; else `silentProgress`. */
export function terminalProgress(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || stream.isTTY !== true) return silentProgress;
  // Loaded here: a command that shows no progress never loads cli-progress.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cliProgress = require("cli-progress") as { MultiBar: new (options: object) => MultiBar };
  const options = { stream, clearOnComplete: true, hideCursor: true, barsize: 30 };
  let multi: MultiBar | undefined;
  let bar: Bar | undefined;
  let kind: "step" | "count" | undefined;
  let spinner: NodeJS.Timeout | undefined;
  let frame = 0;
  let startedAt = 0;

  const show = (next: "step" | "count", total: number, payload: Record<string, unknown>) => {
    if (kind === next && bar !== undefined) return false;
    stop();
    multi = new cliProgress.MultiBar(options);
    const format =
      next === "step" ? "{frame} {label} {elapsed}" : "{label} [{bar}] {value}/{total} {what} {elapsed}";
    startedAt = Date.now();
    bar = multi.create(total, 0, { ...payload, elapsed: "", frame: FRAMES[0] }, { format });
    kind = next;
    return true;
  };
  const elapsed = () => `${Math.floor((Date.now() - startedAt) / 1000)} s`;
  const stop = () => {
    if (spinner !== undefined) clearInterval(spinner);
    spinner = undefined;
    multi?.stop();
    multi = undefined;
    bar = undefined;
    kind = undefined;
  };
  return {
    step(label) {
      if (show("step", 1, { label })) {
        spinner = setInterval(() => {
          frame = (frame + 1) % FRAMES.length;
          bar?.update(0, { frame: FRAMES[frame], elapsed: elapsed() });
        }, 120);
        spinner.unref();
      }
      bar?.update(0, { label, elapsed: elapsed() });
    },
    count(label, done, total, what = "") {
      show("count", total, { label, what });
      bar?.setTotal(total);
      bar?.update(done, { label, what, elapsed: elapsed() });
    },
    log(message) {
      if (multi !== undefined) multi.log(`${message}\n`);
      else stream.write(`${message}\n`);
    },
    stop,
  };
}
