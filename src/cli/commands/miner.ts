/** `pot miner start` and `pot miner status`: run a miner agent (src/miner) with the `pot` configuration. */
import { existsSync, readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { createLogger, LOG_FORMATS, type LogFormat } from "../../miner/log";
import { DEFAULT_SPECULATION_DEPTH, minerStatusPath } from "../../miner/settings";
import { minerLiveness } from "../../miner/liveness";
import { parsePotAmount } from "../amounts";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { minerAgent, viem } from "../lazy";

interface StartOptions {
  stake?: string;
  speculate: boolean;
  speculationDepth?: string;
  dummy: boolean;
  minFeePerStage?: string;
  logFormat?: LogFormat;
}

function parseDepth(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) {
    throw new CliUsageError(
      `--speculation-depth must be an integer from 0 to 64, got "${v}"`,
      "Pass e.g. --speculation-depth 3, or --no-speculate to turn pipelining off",
    );
  }
  return n;
}

/** Registers `pot miner start|status`. */
export function registerMinerCommands(program: Command, context: () => CliContext): void {
  const miner = program
    .command("miner")
    .description("run a miner: stake, train stages, declare, build, attest, earn");

  miner
    .command("start")
    .description("start a miner agent in the foreground (Ctrl-C stops it cleanly; state survives restarts)")
    .option("--stake <pot>", "POT to keep staked (default: 10x the ledger's minimum stake)")
    .option("--no-speculate", "do not train stages before the chain opens them (turns pipelining off)")
    .option(
      "--speculation-depth <n>",
      `stages to train ahead of the chain from this miner's own results (default ${DEFAULT_SPECULATION_DEPTH})`,
    )
    .option("--no-dummy", "do not train the built-in dummy job when no employer job is open")
    .option("--min-fee-per-stage <eth>", "ignore employer jobs paying less per stage (ETH)")
    .addOption(
      new Option(
        "--log-format <format>",
        "log lines on stderr: text for people, json (one object per line) for programs (default: json with --json, else text)",
      ).choices(LOG_FORMATS),
    )
    .action(async (opts: StartOptions) => {
      const ctx = context();
      const logFormat = opts.logFormat ?? (ctx.config.json ? "json" : "text");
      const handle = await minerAgent().startMiner({
        config: ctx.config,
        log: createLogger(ctx.config.logLevel, { agent: "miner" }, undefined, logFormat),
        account: await ctx.account(),
        stakeWei: opts.stake === undefined ? undefined : parsePotAmount(opts.stake),
        speculationDepth: opts.speculate ? parseDepth(opts.speculationDepth) : 0,
        policy: {
          idleDummy: opts.dummy,
          minFeePerStageWei: opts.minFeePerStage === undefined ? 0n : viem().parseEther(opts.minFeePerStage),
        },
      });
      ctx.out.result({ ready: true, address: handle.address, dataDir: ctx.config.dataDir }, () => [
        `Miner ${handle.address} running; data directory ${ctx.config.dataDir}`,
        `Logs are ${logFormat === "json" ? "JSON lines" : "text lines"} on stderr (--log-format text|json). Ctrl-C stops it.`,
      ]);
      await new Promise<void>((resolve) => {
        const stop = () => void handle.stop().then(resolve);
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });

  miner
    .command("status")
    .description(
      "whether the miner of this data directory is up (pid alive, heartbeat fresh) or exited, and what it last reported",
    )
    .action(() => {
      const ctx = context();
      const path = minerStatusPath(ctx.config.dataDir);
      if (!existsSync(path)) {
        throw new CliUsageError(
          `No miner status at ${path}`,
          "Start a miner with this data directory first (pot miner start --data-dir <dir>)",
        );
      }
      const written = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      const live = minerLiveness(ctx.config.dataDir, written);
      // `running` is what the process is doing now, not what it last wrote (a killed miner wrote `true`).
      const status = {
        ...written,
        running: live.running,
        state: live.state,
        pid: live.pid,
        heartbeatAgeSeconds: live.heartbeatAgeSeconds,
        summary: live.summary,
      };
      ctx.out.result(status, () => [live.summary, ...statusLines(written)]);
    });
}

/** The miner's last report for people: one `name  value` line per field, words instead of JSON. */
export function statusLines(written: Record<string, unknown>): string[] {
  const entries = Object.entries(written).filter(([k]) => !["running", "pid"].includes(k));
  const names = entries.map(([k]) => k.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase());
  const width = Math.max(0, ...names.map((n) => n.length));
  return entries.map(([, v], i) => `  ${names[i].padEnd(width)}  ${humanValue(v)}`);
}

function humanValue(v: unknown): string {
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.map(humanValue).join(", ");
  if (v !== null && typeof v === "object")
    return Object.entries(v)
      .map(([k, x]) => `${k} ${humanValue(x)}`)
      .join(", ");
  return String(v);
}
