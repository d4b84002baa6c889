/** `pot wallet new` and `pot wallet address`. */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { chainWallet } from "../lazy";

/** Registers the wallet commands. */
export function registerWalletCommands(program: Command, context: () => CliContext): void {
  const wallet = program.command("wallet").description("accounts: encrypted keystores");

  wallet
    .command("new")
    .description(
      "create a new account in an encrypted JSON keystore (password: POT_KEYSTORE_PASSWORD or a prompt)",
    )
    .option(
      "--out <file>",
      "keystore file to write (default: --keystore / POT_KEYSTORE if set, else <data dir>/keystore.json)",
    )
    .action(async (opts: { out?: string }) => {
      const ctx = context();
      const { createKeystore, keystorePassword } = chainWallet();
      const configured = ctx.config.wallet.kind === "keystore" ? ctx.config.wallet.path : undefined;
      const path =
        opts.out !== undefined
          ? resolve(opts.out)
          : (configured ?? join(ctx.config.dataDir, "keystore.json"));
      const password = await keystorePassword("New keystore password: ", { env: ctx.env });
      if (!ctx.env.POT_KEYSTORE_PASSWORD) {
        const again = await keystorePassword("Repeat the password: ", { env: ctx.env });
        if (again !== password) throw new CliUsageError("The passwords differ", "Run pot wallet new again");
      }
      const address = await createKeystore(path, password);
      ctx.out.result({ address, keystore: path }, () => [
        `Created ${address}`,
        `Keystore: ${path}`,
        `Use it with --keystore ${path} (or POT_KEYSTORE); keep the password safe: it cannot be recovered.`,
      ]);
    });

  wallet
    .command("address")
    .description("print the address of the --keystore / --private-key account (no password needed)")
    .action(() => {
      const ctx = context();
      const address = ctx.walletAddress();
      if (address === undefined) {
        throw new CliUsageError(
          "No account configured",
          "Pass --keystore <file> or --private-key (or POT_KEYSTORE / POT_PRIVATE_KEY)",
        );
      }
      ctx.out.result({ address }, () => [address]);
    });
}
