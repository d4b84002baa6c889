/** `pot rewards [address]` and `pot withdraw`: the ETH the ledger owes an account (rewards, refunds). */
import type { Command } from "commander";
import { formatEth } from "../amounts";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { resolveAddress } from "./token";

/** The ledger of a session, or a usage error saying the deployment has none. */
function ledgerOf<T extends { contracts: { ledger?: unknown } }>(
  session: T,
): NonNullable<T["contracts"]["ledger"]> {
  const ledger = session.contracts.ledger;
  if (ledger === undefined) {
    throw new CliUsageError(
      "This deployment has no PoTLedger",
      "Deploy the full PoT contracts with pot deploy",
    );
  }
  return ledger as NonNullable<T["contracts"]["ledger"]>;
}

/** Registers `pot rewards` and `pot withdraw`. */
export function registerRewardCommands(program: Command, context: () => CliContext): void {
  program
    .command("rewards")
    .description(
      "ETH the ledger owes an account: credited rewards and refunds, withdrawable with pot withdraw",
    )
    .argument("[address]", "account (default: the configured wallet)")
    .action(async (address: string | undefined) => {
      const ctx = context();
      const session = await ctx.readSession();
      const who = resolveAddress(ctx, address);
      const ledger = ledgerOf(session);
      const claimable = (await session.publicClient.readContract({
        ...ledger,
        functionName: "claimable",
        args: [who],
      })) as bigint;
      ctx.out.result({ address: who, claimableWei: claimable }, () => [
        `${who} can withdraw ${formatEth(claimable)} from the ledger`,
      ]);
    });

  program
    .command("withdraw")
    .description("withdraw every wei the ledger owes the wallet (rewards, refunds): a pull payment")
    .action(async () => {
      const ctx = context();
      const session = await ctx.signingSession();
      const ledger = ledgerOf(session);
      const me = session.sender.address;
      const claimable = (await session.publicClient.readContract({
        ...ledger,
        functionName: "claimable",
        args: [me],
      })) as bigint;
      if (claimable === 0n) {
        throw new CliUsageError(
          `${me} has nothing to withdraw from the ledger`,
          "Rewards are credited when a miner claims its shares of wrapped stages (pot miner start does it)",
        );
      }
      const sent = await session.sender.send({ ...ledger, functionName: "withdraw", args: [] });
      ctx.out.result({ address: me, withdrawnWei: claimable, tx: sent.hash }, () => [
        `Withdrew ${formatEth(claimable)} to ${me}`,
        `Transaction: ${sent.hash}`,
      ]);
    });
}
