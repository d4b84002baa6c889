/**
 * Process entry of the miner (to be wired as `pot miner start|status`):
 *
 *   node -r ts-node/register/transpile-only src/miner/main.ts start  [--data-dir d] [--network n] ...
 *   node -r ts-node/register/transpile-only src/miner/main.ts status [--data-dir d]
 *
 * Configuration comes from src/config (flags > POT_* > file > defaults). Miner-only settings:
 * POT_MINER_STAKE (PoT wei to hold staked), POT_MINER_SPECULATE (0/1), POT_MINER_IDLE_DUMMY (0/1),
 * POT_MINER_MIN_FEE_PER_STAGE (wei). Logs are JSON lines on stderr; SIGTERM/SIGINT stop it cleanly.
 */
import { existsSync, readFileSync } from "node:fs";
import { loadConfig, type ConfigFlags } from "../config/load";
import { minerStatusPath, startMiner } from "./agent";

function parseFlags(argv: string[]): ConfigFlags {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const name = a.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) flags[name] = true;
    else {
      flags[name] = next;
      i++;
    }
  }
  return flags as ConfigFlags;
}

const flagBool = (v: string | undefined, dflt: boolean) =>
  v === undefined || v === "" ? dflt : v === "1" || v.toLowerCase() === "true";

export async function main(argv = process.argv.slice(2), env = process.env): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig({ flags: parseFlags(rest), env });
  if (command === "status") {
    const path = minerStatusPath(config.dataDir);
    if (!existsSync(path)) {
      process.stderr.write(`No miner status at ${path}: start a miner with this data directory first\n`);
      return 1;
    }
    process.stdout.write(readFileSync(path, "utf8") + "\n");
    return 0;
  }
  if (command !== "start") {
    process.stderr.write(
      "usage: main.ts start|status [--data-dir dir] [--network name] [--rpc-url url] [--chain-id id] ...\n",
    );
    return 2;
  }
  const handle = await startMiner({
    config,
    stakeWei: env.POT_MINER_STAKE ? BigInt(env.POT_MINER_STAKE) : undefined,
    speculationDepth: !flagBool(env.POT_MINER_SPECULATE, true)
      ? 0
      : env.POT_MINER_SPECULATION_DEPTH
        ? Number(env.POT_MINER_SPECULATION_DEPTH)
        : undefined,
    policy: {
      idleDummy: flagBool(env.POT_MINER_IDLE_DUMMY, true),
      minFeePerStageWei: env.POT_MINER_MIN_FEE_PER_STAGE ? BigInt(env.POT_MINER_MIN_FEE_PER_STAGE) : 0n,
    },
  });
  process.stdout.write(JSON.stringify({ ready: true, address: handle.address }) + "\n");
  await new Promise<void>((resolve) => {
    const stop = () => void handle.stop().then(resolve);
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
