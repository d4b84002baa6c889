/** `pot stake`, `pot unstake`, `pot withdraw-unstaked`, `pot peer set|clear`, `pot staking status`. */
import type { Command } from "commander";
import { formatPot, parsePotAmount } from "../amounts";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { resolveAddress } from "./token";
import { chainStaking, followTheCoin } from "../lazy";

const iso = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();

/** Registers the staking commands. */
export function registerStakingCommands(program: Command, context: () => CliContext): void {
  program
    .command("stake")
    .description("stake POT (approves the staking contract first when needed)")
    .argument("<amount>", "POT to stake, decimals allowed (e.g. 100 or 0.5)")
    .action(async (amountText: string) => {
      const ctx = context();
      const amount = parsePotAmount(amountText);
      const session = await ctx.signingSession();
      const { token, staking } = session.contracts;
      const me = session.sender.address;
      const client = session.publicClient;
      const calls = chainStaking();
      const balance = await calls.readTokenBalance(client, token, me);
      if (balance < amount) {
        throw new CliUsageError(
          `Cannot stake ${formatPot(amount)}: ${me} holds ${formatPot(balance)}`,
          ctx.config.isLocal ? "Get POT with pot faucet, or stake less" : "Get more POT, or stake less",
        );
      }
      const allowance = await calls.readAllowance(client, token, me, staking.address);
      let approveTx: string | undefined;
      if (allowance < amount) {
        ctx.out.note(`Approving the staking contract for ${formatPot(amount)}...`);
        approveTx = (await session.sender.send(calls.stakingTx.approve(token, staking.address, amount))).hash;
      }
      const sent = await session.sender.send(calls.stakingTx.stake(staking, amount));
      const active = await calls.readStake(client, staking, me);
      // draw weights change only at staking epoch boundaries: the stake counts for committee and jury
      // draws from the next epoch (coin age and the bond at once)
      const drawableFromBlock = followTheCoin().nextDrawEpochStart(
        await client.getBlockNumber({ cacheTime: 0 }),
        await calls.readEpochBlocks(client, staking),
      );
      ctx.out.result(
        { address: me, amount, stake: active, drawableFromBlock, tx: sent.hash, approveTx },
        () => [
          `Staked ${formatPot(amount)}; active stake ${formatPot(active)}`,
          `Counts for committee and jury draws from block ${drawableFromBlock} (the next staking epoch)`,
          `Transaction: ${sent.hash}`,
        ],
      );
    });

  program
    .command("unstake")
    .description(
      "request an unstake: the amount stops counting at once and unlocks after the unbonding delay",
    )
    .argument("<amount>", "POT to unstake, decimals allowed")
    .action(async (amountText: string) => {
      const ctx = context();
      const amount = parsePotAmount(amountText);
      const session = await ctx.signingSession();
      const { staking } = session.contracts;
      const me = session.sender.address;
      const calls = chainStaking();
      const sent = await session.sender.send(calls.stakingTx.requestUnstake(staking, amount));
      const { amount: unbonding, releaseAt } = await calls.readUnbonding(session.publicClient, staking, me);
      ctx.out.result({ address: me, amount, unbonding, releaseAt, tx: sent.hash }, () => [
        `Requested unstake of ${formatPot(amount)}; ${formatPot(unbonding)} unbonding`,
        `Withdraw it with pot withdraw-unstaked from ${iso(releaseAt)}`,
      ]);
    });

  program
    .command("withdraw-unstaked")
    .description("withdraw all unbonding stake whose delay has passed")
    .action(async () => {
      const ctx = context();
      const session = await ctx.signingSession();
      const { staking } = session.contracts;
      const me = session.sender.address;
      const calls = chainStaking();
      const { amount } = await calls.readUnbonding(session.publicClient, staking, me);
      const sent = await session.sender.send(calls.stakingTx.withdrawUnstaked(staking));
      ctx.out.result({ address: me, amount, tx: sent.hash }, () => [`Withdrew ${formatPot(amount)}`]);
    });

  const peer = program.command("peer").description("your IPFS node in the on-chain peer registry");
  peer
    .command("set")
    .description("announce your IPFS node so other miners can fetch from it")
    .argument("<multiaddr>", "e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3Koo...")
    .action(async (multiaddr: string) => {
      const ctx = context();
      if (!multiaddr.startsWith("/")) {
        throw new CliUsageError(
          `Invalid multiaddr "${multiaddr}"`,
          "Give a multiaddr such as /ip4/203.0.113.7/tcp/4001/p2p/<peer id>",
        );
      }
      const session = await ctx.signingSession();
      const sent = await session.sender.send(
        chainStaking().stakingTx.setPeer(session.contracts.staking, multiaddr),
      );
      ctx.out.result({ address: session.sender.address, peer: multiaddr, tx: sent.hash }, () => [
        `Announced ${multiaddr} for ${session.sender.address}`,
      ]);
    });
  peer
    .command("clear")
    .description("remove your announced IPFS node")
    .action(async () => {
      const ctx = context();
      const session = await ctx.signingSession();
      const sent = await session.sender.send(chainStaking().stakingTx.clearPeer(session.contracts.staking));
      ctx.out.result({ address: session.sender.address, peer: "", tx: sent.hash }, () => ["Peer removed"]);
    });

  program
    .command("staking")
    .description("staking information")
    .command("status")
    .description("stake, coin age, unbonding and release time, and announced peer of an address")
    .argument("[address]", "0x address (default: your account)")
    .action(async (addressArg: string | undefined) => {
      const ctx = context();
      const who = resolveAddress(ctx, addressArg);
      const session = await ctx.readSession();
      const { staking } = session.contracts;
      const client = session.publicClient;
      const calls = chainStaking();
      const [position, terms, block] = await Promise.all([
        calls.readStakerPosition(client, staking, who),
        calls.readStakingTerms(client, staking),
        client.getBlock({ blockTag: "latest" }),
      ]);
      const { stake, coinAge, stakeSince: since, peer: peerAddr } = position;
      const { amount: unbonding, releaseAt } = position.unbonding;
      const { unbondingDelay, maxCoinAgeSeconds: maxCoinAge } = terms;
      const withdrawable = unbonding > 0n && block.timestamp >= releaseAt;
      const data = {
        address: who,
        stake,
        coinAge,
        stakeSince: stake > 0n ? since : null,
        unbonding,
        releaseAt: unbonding > 0n ? releaseAt : null,
        withdrawable,
        peer: peerAddr === "" ? null : peerAddr,
        unbondingDelay,
        maxCoinAgeSeconds: maxCoinAge,
        blockNumber: block.number,
        blockTimestamp: block.timestamp,
      };
      ctx.out.result(data, () => [
        `Address:    ${who}`,
        `Stake:      ${formatPot(stake)}${stake > 0n ? ` since ${iso(since)}` : ""}`,
        `Coin age:   ${formatPot(coinAge)}-seconds (age capped at ${maxCoinAge} s)`,
        `Unbonding:  ${formatPot(unbonding)}${
          unbonding > 0n
            ? withdrawable
              ? " (withdrawable now: pot withdraw-unstaked)"
              : ` (locked until ${iso(releaseAt)})`
            : ""
        }`,
        `Peer:       ${peerAddr === "" ? "(none; pot peer set <multiaddr>)" : peerAddr}`,
      ]);
    });
}
