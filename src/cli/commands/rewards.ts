/**
 * `pot rewards [address]`, `pot rewards claim <jobId>` and `pot withdraw`: what the escrow owes an account.
 * Everything an account earns in a job (every stage, every role) is owed per job until one
 * `escrow.claim(jobId, account)` credits it to the account's claimable balance (miners claim
 * automatically; anyone may claim for anyone); `withdraw()` pays the claimable balance (rewards and refunds).
 */
import type { Command } from "commander";
import type { Address } from "viem";
import type { LedgerHandle } from "../../chain/ledger-reads";
import { formatEth, formatPot } from "../amounts";
import { handleOf, parseJobId } from "../args";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { employerLedger } from "../lazy";
import { resolveAddress } from "./token";

/** What `account` is owed in each job (unclaimed wei and coinbase POT), jobs with nothing owed left out. */
async function owedPerJob(
  h: LedgerHandle,
  account: Address,
): Promise<{ jobId: bigint; amount: bigint; coinbase: bigint }[]> {
  const { readNextJobId, readOwed } = employerLedger();
  const next = await readNextJobId(h);
  const ids = Array.from({ length: Number(next) }, (_, i) => BigInt(i));
  const owed = await Promise.all(
    ids.map(async (jobId) => ({ jobId, ...(await readOwed(h, jobId, account)) })),
  );
  return owed.filter((o) => o.amount > 0n || o.coinbase > 0n);
}

/** Registers `pot rewards`, `pot rewards claim` and `pot withdraw`. */
export function registerRewardCommands(program: Command, context: () => CliContext): void {
  const rewards = program
    .command("rewards")
    .description(
      "ETH the escrow owes an account: claimable now (pot withdraw) and, per job, earned but not claimed yet (pot rewards claim <jobId>)",
    )
    .argument("[address]", "account (default: the configured wallet)")
    .action(async (address: string | undefined) => {
      const ctx = context();
      const session = await ctx.readSession();
      const who = resolveAddress(ctx, address);
      const h = handleOf(session);
      const [claimable, jobs] = await Promise.all([
        employerLedger().readClaimable(h, who),
        owedPerJob(h, who),
      ]);
      ctx.out.result(
        {
          address: who,
          claimableWei: claimable,
          owed: jobs.map((j) => ({ jobId: j.jobId, wei: j.amount, coinbase: j.coinbase })),
        },
        () => [
          `${who} can withdraw ${formatEth(claimable)} from the escrow (pot withdraw)`,
          ...(jobs.length === 0
            ? ["Nothing earned is left unclaimed"]
            : jobs.map(
                (j) =>
                  `job ${j.jobId}: ${formatEth(j.amount)} and ${formatPot(j.coinbase)} coinbase earned, not claimed yet (pot rewards claim ${j.jobId})`,
              )),
        ],
      );
    });

  rewards
    .command("claim")
    .description(
      "claim what the wallet earned in a job (every stage and role, one escrow.claim) into its claimable balance",
    )
    .argument("<jobId>", "the job (0: the dummy job's coinbase)")
    .option("--for <address>", "claim for another account (anyone may; it is credited to that account)")
    .action(async (jobIdText: string, o: { for?: string }) => {
      const ctx = context();
      const jobId = parseJobId(jobIdText, true);
      const session = await ctx.signingSession();
      const h = handleOf(session);
      const account = o.for === undefined ? session.sender.address : resolveAddress(ctx, o.for);
      const owed = await employerLedger().readOwed(h, jobId, account);
      if (owed.amount === 0n && owed.coinbase === 0n) {
        throw new CliUsageError(
          `${account} has nothing to claim in job ${jobId}`,
          "Rewards are owed once a stage the account declared, built or attested is wrapped; pot rewards lists them",
        );
      }
      const sent = await employerLedger().sendClaim(session.sender, h.suite, jobId, account);
      ctx.out.result(
        { address: account, jobId, claimedWei: owed.amount, coinbase: owed.coinbase, tx: sent.hash },
        () => [
          `Claimed ${formatEth(owed.amount)} and ${formatPot(owed.coinbase)} coinbase of job ${jobId} for ${account}`,
          "Withdraw the ETH with pot withdraw",
          `Transaction: ${sent.hash}`,
        ],
      );
    });

  program
    .command("withdraw")
    .description(
      "withdraw every wei the escrow holds for the wallet (claimed rewards, refunds): a pull payment",
    )
    .action(async () => {
      const ctx = context();
      const session = await ctx.signingSession();
      const h = handleOf(session);
      const me = session.sender.address;
      const claimable = await employerLedger().readClaimable(h, me);
      if (claimable === 0n) {
        throw new CliUsageError(
          `${me} has nothing to withdraw from the escrow`,
          "Rewards become withdrawable once claimed (pot rewards claim <jobId>; pot miner start claims its own), refunds once a job expired",
        );
      }
      const sent = await employerLedger().sendWithdraw(session.sender, h.suite);
      ctx.out.result({ address: me, withdrawnWei: claimable, tx: sent.hash }, () => [
        `Withdrew ${formatEth(claimable)} to ${me}`,
        `Transaction: ${sent.hash}`,
      ]);
    });
}
