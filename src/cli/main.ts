/**
 * The `pot` command. Global flags feed the one configuration (src/config); each command lives in
 * src/cli/commands and talks to the chain through src/chain. Errors print one line saying what went wrong
 * and what to do (the stack only with --verbose) and exit non-zero.
 */
import { Command, CommanderError, Option } from "commander";
import { CliContext, type GlobalFlags } from "./context";
import { formatCliError } from "./errors";
import { registerDeployCommand, deployScriptPresent } from "./commands/deploy";
import { registerExplorerCommand } from "./commands/explorer";
import { registerJobCommands } from "./commands/job";
import { registerMinerCommands } from "./commands/miner";
import { registerRewardCommands } from "./commands/rewards";
import { registerNodeCommand } from "./commands/node";
import { registerStakingCommands } from "./commands/staking";
import { registerTokenCommands } from "./commands/token";
import { registerWalletCommands } from "./commands/wallet";

/** Builds the `pot` program. `env` defaults to the process environment. */
export function buildProgram(env: Record<string, string | undefined> = process.env): Command {
  const program = new Command("pot");
  program
    .description("Proof of Training: a blockchain where miners train ML models instead of hashing")
    .version("0.1.0")
    .option("--network <name>", "network: hardhat, localhost, testnet or a custom name (env POT_NETWORK)")
    .option("--rpc-url <url>", "JSON-RPC URL (env POT_RPC_URL)")
    .option("--chain-id <id>", "chain id (env POT_CHAIN_ID)")
    .option("--config <file>", "JSON configuration file (env POT_CONFIG)")
    .option("--data-dir <dir>", "data directory (env POT_DATA_DIR; default ./.pot if present, else ~/.pot)")
    .option(
      "--deployments <file>",
      "deployments file (env POT_DEPLOYMENTS; default deployments/<network>-<chainId>.json)",
    )
    .option("--confirmations <n>", "confirmations depth (env POT_CONFIRMATIONS)")
    .option("--json", "print JSON (env POT_JSON=1)")
    .addOption(
      new Option(
        "--private-key <hex>",
        "account private key (env POT_PRIVATE_KEY; prefer a keystore)",
      ).conflicts("keystore"),
    )
    .option(
      "--keystore <file>",
      "encrypted JSON keystore of the account (env POT_KEYSTORE; password POT_KEYSTORE_PASSWORD)",
    )
    .addOption(
      new Option("--log-level <level>", "log level (env POT_LOG_LEVEL)").choices([
        "error",
        "warn",
        "info",
        "debug",
      ]),
    )
    .option("--verbose", "print stack traces of errors and debug logs")
    .showHelpAfterError("(run pot --help or pot <command> --help)")
    .addHelpText(
      "after",
      "\nEvery flag and POT_* variable: docs/cli.md. Precedence: flags > POT_* > --config file > defaults.",
    );

  let context: CliContext | undefined;
  const getContext = () => (context ??= new CliContext(program.opts<GlobalFlags>(), env));

  registerNodeCommand(program, getContext);
  if (deployScriptPresent()) registerDeployCommand(program, getContext);
  registerWalletCommands(program, getContext);
  registerTokenCommands(program, getContext);
  registerStakingCommands(program, getContext);
  registerJobCommands(program, getContext);
  registerMinerCommands(program, getContext);
  registerRewardCommands(program, getContext);
  registerExplorerCommand(program, getContext);
  return program;
}

/** Runs `pot` with `argv` (node, script, ...args); resolves to the exit code. */
export async function run(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  const verbose = argv.includes("--verbose");
  try {
    await program.parseAsync(argv);
    // A command that printed its result and still failed (pot verify FAILED, a blocked dry run) sets it.
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed help, the version or a usage error.
      return error.exitCode === 0 ||
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version"
        ? 0
        : 2;
    }
    process.stderr.write(`${formatCliError(error, verbose)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void run().then((code) => {
    process.exitCode = code;
  });
}
