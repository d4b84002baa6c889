/** `pot faucet` and `pot balance`. */
import type { Command } from "commander";
import type { Address } from "viem";
import { formatEth, formatPot, parseAddress } from "../amounts";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { chainStaking } from "../lazy";

/** Below this much ETH, `pot faucet` on a local node tops the account up for gas. */
const LOCAL_GAS_MIN = 10n ** 17n;
const LOCAL_GAS_TOP_UP = 100n * 10n ** 18n;

/** Registers the token commands. */
export function registerTokenCommands(program: Command, context: () => CliContext): void {
  program
    .command("faucet")
    .description("get test POT from the token's faucet (local and test networks)")
    .action(async () => {
      const ctx = context();
      const session = await ctx.signingSession();
      const { token } = session.contracts;
      const me = session.sender.address;
      const calls = chainStaking();
      const faucet = await calls.readFaucet(session.publicClient, token);
      if (!faucet.enabled) {
        throw new CliUsageError(
          `The ${ctx.config.network} deployment has no faucet`,
          "Get POT from the deployer (genesis holder) or by mining",
        );
      }
      let gasTopUp = false;
      if (ctx.config.isLocal && (await session.publicClient.getBalance({ address: me })) < LOCAL_GAS_MIN) {
        // A fresh local account has no ETH for gas: the development node can mint it.
        await session.publicClient.request({
          method: "hardhat_setBalance",
          params: [me, `0x${LOCAL_GAS_TOP_UP.toString(16)}`],
        } as never);
        gasTopUp = true;
      }
      const sent = await session.sender.send(calls.stakingTx.faucet(token));
      const amount = faucet.amount;
      const balance = await calls.readTokenBalance(session.publicClient, token, me);
      ctx.out.result({ address: me, amount, balance, gasTopUp, tx: sent.hash }, () => [
        `Faucet sent ${formatPot(amount)} to ${me}`,
        ...(gasTopUp ? [`Gas: the local node funded ${me} with ${LOCAL_GAS_TOP_UP / 10n ** 18n} ETH`] : []),
        `Balance: ${formatPot(balance)}`,
      ]);
    });

  program
    .command("balance")
    .description("POT and ETH balance, stake and unbonding of an address (default: your account)")
    .argument("[address]", "0x address (default: the --keystore / --private-key account)")
    .action(async (addressArg: string | undefined) => {
      const ctx = context();
      const who = resolveAddress(ctx, addressArg);
      const session = await ctx.readSession();
      const { token, staking } = session.contracts;
      const client = session.publicClient;
      const calls = chainStaking();
      const [pot, eth, staked, unbonding] = await Promise.all([
        calls.readTokenBalance(client, token, who),
        client.getBalance({ address: who }),
        calls.readStake(client, staking, who),
        calls.readUnbonding(client, staking, who),
      ]);
      ctx.out.result({ address: who, balance: pot, eth, stake: staked, unbonding: unbonding.amount }, () => [
        `Address:   ${who}`,
        `Balance:   ${formatPot(pot)}`,
        `Staked:    ${formatPot(staked)}`,
        `Unbonding: ${formatPot(unbonding.amount)}`,
        `Gas:       ${formatEth(eth)}`,
      ]);
    });
}

/** The address argument, else the configured wallet's address, else a usage error. */
export function resolveAddress(ctx: CliContext, addressArg: string | undefined): Address {
  if (addressArg !== undefined) return parseAddress(addressArg);
  const own = ctx.walletAddress();
  if (own === undefined) {
    throw new CliUsageError(
      "No address given",
      "Pass an address, or --keystore / --private-key for your own account",
    );
  }
  return own;
}
