import { join } from "node:path";
import { expect } from "chai";
import { parseUnits, type Address, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { errorsAbi, loadPoTArtifact } from "../../src/chain/artifacts";
import { createPotPublicClient, createPotWalletClient } from "../../src/chain/clients";
import { ContractRevertError } from "../../src/chain/errors";
import { EventWatcher, type WatchedLog } from "../../src/chain/events";
import { decodeRevert } from "../../src/chain/revert";
import { TxSender } from "../../src/chain/tx-sender";
import { PROJECT_ROOT } from "../../src/config/load";
import {
  deployTokenAndStaking,
  startTestNode,
  type TestDeployment,
  type TestNode,
} from "../support/chain-node";
import { nextDrawEpochStart } from "../../src/protocol/follow-the-coin";

const artifactsDir = join(PROJECT_ROOT, "artifacts");
const tokenAbi = loadPoTArtifact(artifactsDir, "PoTToken").abi;
const stakingAbi = loadPoTArtifact(artifactsDir, "PoTStaking").abi;
const allErrors = errorsAbi(tokenAbi, stakingAbi);
const POT = (n: string) => parseUnits(n, 18);

describe("chain: against a real hardhat node", function () {
  this.timeout(60_000);
  let node: TestNode;
  let d: TestDeployment;
  let client: PublicClient;
  const senders: TxSender[] = [];

  before(async () => {
    node = await startTestNode();
    d = await deployTokenAndStaking(node.url, node.accounts[0].privateKey);
    const config = {
      network: "localhost",
      rpcUrl: node.url,
      chainId: 31337,
      rpcTimeoutMs: 5_000,
      pollingIntervalMs: 50,
      retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    };
    client = createPotPublicClient(config);
    for (const a of node.accounts.slice(1, 5)) {
      const account = privateKeyToAccount(a.privateKey as `0x${string}`);
      senders.push(
        new TxSender({
          publicClient: client,
          walletClient: createPotWalletClient(config, account),
          account,
          errorsAbi: allErrors,
        }),
      );
    }
  });
  after(async () => {
    await node?.stop();
  });

  const token = () => ({ address: d.token as Address, abi: tokenAbi });
  const staking = () => ({ address: d.staking as Address, abi: stakingAbi });
  const stakeFrom = async (s: TxSender, amount: bigint) => {
    await s.send({ ...token(), functionName: "approve", args: [d.staking, amount] });
    return s.send({ ...staking(), functionName: "stake", args: [amount] });
  };
  const rpc = (method: string, params: unknown[] = []) =>
    client.request({ method, params } as never) as Promise<unknown>;
  const names = (logs: WatchedLog[]) => logs.map((l) => l.eventName);

  it("sends queued transactions from one account concurrently without nonce clashes", async () => {
    const s = senders[0];
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        s.send({ ...token(), functionName: "faucet" }).then(
          () => "ok",
          (e: Error) => e.constructor.name,
        ),
      ),
    );
    // The first faucet works; the next four hit the 60 s cooldown, each decoded, none fails on nonces.
    expect(results[0]).to.equal("ok");
    expect(results.slice(1)).to.deep.equal(Array(4).fill("ContractRevertError"));
    // Different calls of one account in parallel all land, in order.
    const hashes = await Promise.all(
      [POT("1"), POT("2"), POT("3")].map((amount) =>
        s.send({ ...token(), functionName: "approve", args: [d.staking, amount] }),
      ),
    );
    const nonces = await Promise.all(
      hashes.map((h) => client.getTransaction({ hash: h.hash }).then((t) => t.nonce)),
    );
    expect(nonces).to.deep.equal([...nonces].sort((a, b) => a - b));
    expect(new Set(nonces).size).to.equal(3);
    expect(
      await client.readContract({ ...token(), functionName: "allowance", args: [s.address, d.staking] }),
    ).to.equal(POT("3"));
  });

  it("surfaces reverts as custom errors decoded by name, with what to do", async () => {
    const s = senders[0];
    const unstake = await s
      .send({ ...staking(), functionName: "requestUnstake", args: [POT("5")] })
      .catch((e: unknown) => e);
    expect(unstake).to.be.instanceOf(ContractRevertError);
    expect((unstake as ContractRevertError).signature).to.equal(`InsufficientStake(${POT("5")}, 0)`);
    expect((unstake as Error).message).to.match(/unstake at most/);

    // A cross-contract error: stake without allowance reverts inside the token.
    const noAllowance = await s
      .send({ ...staking(), functionName: "stake", args: [POT("50")] })
      .catch((e: unknown) => e);
    expect((noAllowance as ContractRevertError).errorName).to.equal("ERC20InsufficientAllowance");

    // A view: draw(seed, 3, randBlock) with 2 stakers (drawable from the next staking epoch: mine to it).
    await senders[1].send({ ...token(), functionName: "faucet" });
    await stakeFrom(senders[1], POT("1"));
    await senders[2].send({ ...token(), functionName: "faucet" });
    await stakeFrom(senders[2], POT("2"));
    const epochBlocks = (await client.readContract({
      address: d.staking as Address,
      abi: stakingAbi,
      functionName: "epochBlocks",
    })) as bigint;
    const head = await client.getBlockNumber({ cacheTime: 0 });
    await client.request({
      method: "hardhat_mine",
      params: [`0x${(nextDrawEpochStart(head, epochBlocks) - head).toString(16)}`],
    } as never);
    const draw = await client
      .readContract({
        address: d.staking as Address,
        abi: [...stakingAbi, ...allErrors],
        functionName: "draw",
        args: [`0x${"00".repeat(32)}`, 3n, await client.getBlockNumber({ cacheTime: 0 })],
      })
      .catch((e: unknown) => decodeRevert(e, "draw"));
    expect(draw).to.be.instanceOf(ContractRevertError);
    expect((draw as ContractRevertError).signature).to.equal("NotEnoughStakers(3, 2)");
    expect((draw as ContractRevertError).args).to.deep.equal([3n, 2n]);
  });

  it("watches events: confirmations, de-duplication on re-read, resume from a stored block", async () => {
    const fromBlock = BigInt(d.deployBlock);
    const watcher = new EventWatcher({
      client,
      address: [d.staking as Address],
      abi: stakingAbi,
      fromBlock,
      confirmations: 0,
      reorgDepth: 5,
    });
    const first = await watcher.poll();
    expect(names(first)).to.deep.equal(["StakerRegistered", "Staked", "StakerRegistered", "Staked"]);
    // Re-reading the last 5 blocks delivers nothing twice.
    expect(await watcher.poll()).to.deep.equal([]);
    const stored = watcher.nextBlock; // what the miner persists

    await stakeFrom(senders[1], POT("1"));
    const second = await watcher.poll();
    expect(names(second)).to.deep.equal(["Staked"]);
    expect((second[0].args as { amount: bigint }).amount).to.equal(POT("1"));

    // A new process resumes from the stored block: it sees the Staked event after it, not the ones before.
    const resumed = new EventWatcher({
      client,
      address: d.staking as Address,
      abi: stakingAbi,
      fromBlock: stored,
      confirmations: 0,
    });
    expect(names(await resumed.poll())).to.deep.equal(["Staked"]);
    expect(await resumed.poll()).to.deep.equal([]);

    // Confirmations: a log is delivered only with 2 blocks on top of it.
    const deep = new EventWatcher({
      client,
      address: d.staking as Address,
      abi: stakingAbi,
      eventNames: ["PeerSet"],
      fromBlock: resumed.nextBlock,
      confirmations: 2,
    });
    await deep.poll();
    await senders[1].send({ ...staking(), functionName: "setPeer", args: ["/ip4/127.0.0.1/tcp/4001"] });
    expect(await deep.poll()).to.deep.equal([]);
    await rpc("evm_mine");
    expect(await deep.poll()).to.deep.equal([]);
    await rpc("evm_mine");
    const confirmed = await deep.poll();
    expect(names(confirmed)).to.deep.equal(["PeerSet"]);
    expect((confirmed[0].args as { multiaddr: string }).multiaddr).to.equal("/ip4/127.0.0.1/tcp/4001");
  });

  it("survives a reorg: a log moved to a new block is delivered again, nothing twice", async () => {
    const watcher = new EventWatcher({
      client,
      address: d.staking as Address,
      abi: stakingAbi,
      eventNames: ["Staked"],
      fromBlock: (await client.getBlockNumber()) + 1n,
      confirmations: 0,
      reorgDepth: 3,
    });
    const snapshot = await rpc("evm_snapshot");
    await stakeFrom(senders[2], POT("0.25"));
    const before = await watcher.poll();
    expect(before).to.have.length(1);
    // Reorg: the chain goes back and a different branch is mined at the same heights.
    expect(await rpc("evm_revert", [snapshot])).to.equal(true);
    await rpc("evm_mine");
    await stakeFrom(senders[2], POT("0.5"));
    const after = await watcher.poll();
    expect(after).to.have.length(1);
    expect((after[0].args as { amount: bigint }).amount).to.equal(POT("0.5"));
    expect(after[0].blockHash).to.not.equal(before[0].blockHash);
    expect(await watcher.poll()).to.deep.equal([]);
  });

  it("start()/stop() polls, delivers in order and checkpoints; a failing handler gets the logs again", async () => {
    const fromBlock = (await client.getBlockNumber()) + 1n;
    const watcher = new EventWatcher({
      client,
      address: d.token as Address,
      abi: tokenAbi,
      eventNames: ["Approval"],
      fromBlock,
      confirmations: 0,
      pollingIntervalMs: 50,
    });
    const seen: bigint[] = [];
    const checkpoints: bigint[] = [];
    let failOnce = true;
    watcher.start({
      onLogs: (logs) => {
        if (failOnce) {
          failOnce = false;
          throw new Error("handler failed");
        }
        for (const l of logs) seen.push((l.args as { value: bigint }).value);
      },
      onCheckpoint: (b) => void checkpoints.push(b),
      onError: () => undefined,
    });
    for (const v of ["7", "8", "9"])
      await senders[3].send({ ...token(), functionName: "approve", args: [d.staking, POT(v)] });
    const deadline = Date.now() + 5_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await watcher.stop();
    expect(seen).to.deep.equal([POT("7"), POT("8"), POT("9")]);
    expect(checkpoints.at(-1)).to.equal((await client.getBlockNumber()) + 1n);
  });
});
