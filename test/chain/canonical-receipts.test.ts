/**
 * waitForCanonicalReceipt and TxSender against a real anvil that reorganizes on request (`anvil_reorg`):
 * a transaction a reorg drops is reported as dropped (TransactionDroppedError), never returned with a
 * receipt of a block that left the chain; one the reorg re-includes is returned with its new block; the
 * wait counts depth on the current chain. TxSender reports a send a reorg dropped while it waited for its
 * confirmations, and the account's next send takes the freed nonce.
 */
import { expect } from "chai";
import {
  createPublicClient,
  createWalletClient,
  http,
  parseEther,
  type Hash,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { join } from "node:path";
import { loadPoTArtifact } from "../../src/chain/artifacts";
import { TransactionDroppedError } from "../../src/chain/errors";
import { waitForCanonicalReceipt } from "../../src/chain/receipts";
import { TxSender } from "../../src/chain/tx-sender";
import { PROJECT_ROOT } from "../../src/config/load";
import { nodeRpc } from "../../src/devnet/node-impl";
import { deployTokenAndStaking, startTestNode, type TestNode } from "../support/chain-node";

describe("canonical receipts on anvil: reorgs are seen", function () {
  this.timeout(60_000);
  let node: TestNode;
  let client: PublicClient;
  let wallet: WalletClient;
  let account: PrivateKeyAccount;
  const to = "0x000000000000000000000000000000000000dEaD";

  before(async () => {
    node = await startTestNode("anvil");
    client = createPublicClient({ chain: hardhat, transport: http(node.url), pollingInterval: 50 });
    account = privateKeyToAccount(node.accounts[1].privateKey as `0x${string}`);
    wallet = createWalletClient({ chain: hardhat, transport: http(node.url), account });
  });
  after(async () => node?.stop());

  /** A signed transfer, sent (anvil automines it into its own block); its hash and raw bytes. */
  async function transfer(): Promise<{ hash: Hash; raw: `0x${string}` }> {
    const request = await wallet.prepareTransactionRequest({
      account,
      chain: hardhat,
      to,
      value: parseEther("0.001"),
    });
    const raw = await wallet.signTransaction(request as never);
    const hash = await wallet.sendRawTransaction({ serializedTransaction: raw });
    return { hash, raw };
  }
  const wait = (hash: Hash, depth: number, timeoutMs = 5_000) =>
    waitForCanonicalReceipt(client, hash, "transfer", { depth, timeoutMs, pollingIntervalMs: 50 });

  it("returns the receipt once the block is `depth` deep on the head", async () => {
    const { hash } = await transfer();
    const mined = await wait(hash, 1);
    expect(mined.status).to.equal("success");
    const early = await wait(hash, 3, 300).then(
      () => "resolved",
      (e: Error) => e.message,
    );
    expect(early).to.match(/Timed out/);
    await nodeRpc(node.url, "anvil_mine", ["0x2"]);
    expect((await wait(hash, 3)).blockHash).to.equal(mined.blockHash);
  });

  it("reports a transaction a reorg dropped (not in a block, not in the pool) as dropped", async () => {
    const { hash } = await transfer();
    const mined = await wait(hash, 1);
    const waiting = wait(hash, 3); // the block needs two more on top
    await nodeRpc(node.url, "anvil_reorg", [1, []]); // the block replaced by an empty one
    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TransactionDroppedError);
    expect((error as TransactionDroppedError).hash).to.equal(hash);
    expect(await client.getTransactionReceipt({ hash }).catch(() => undefined)).to.equal(undefined);
    expect(await client.getBlockNumber({ cacheTime: 0 })).to.equal(mined.blockNumber);
  });

  it("follows a transaction a reorg moved to another block: the receipt of the current chain", async () => {
    const { hash, raw } = await transfer();
    const mined = await wait(hash, 1);
    // two blocks replaced; the transaction back in the second of them (offset 1)
    await nodeRpc(node.url, "anvil_mine", ["0x1"]);
    await nodeRpc(node.url, "anvil_reorg", [2, [[raw, 1]]]);
    const moved = await wait(hash, 1);
    expect(moved.blockNumber).to.equal(mined.blockNumber + 1n);
    expect(moved.blockHash).to.not.equal(mined.blockHash);
    const block = await client.getBlock({ blockNumber: moved.blockNumber });
    expect(block.hash).to.equal(moved.blockHash);
  });

  it("TxSender: a send dropped while it waits for confirmations throws TransactionDroppedError; the next send mines", async () => {
    const genesis = node.accounts[1].address;
    const { token } = await deployTokenAndStaking(node.url, node.accounts[0].privateKey, [genesis]);
    const abi = loadPoTArtifact(join(PROJECT_ROOT, "artifacts"), "PoTToken").abi;
    const sender = new TxSender({ publicClient: client, walletClient: wallet, account, confirmations: 2 });
    const tx = { address: token as `0x${string}`, abi, functionName: "transfer", args: [to, 1n] };
    const head = await client.getBlockNumber({ cacheTime: 0 });
    const sending = sender.send(tx).then(
      () => undefined,
      (e: unknown) => e,
    );
    // once the transfer is mined (its own block), replace that block by an empty one
    for (let i = 0; i < 100 && (await client.getBlockNumber({ cacheTime: 0 })) === head; i++)
      await new Promise((r) => setTimeout(r, 20));
    await nodeRpc(node.url, "anvil_reorg", [1, []]);
    expect(await sending).to.be.instanceOf(TransactionDroppedError);
    const sendAgain = sender.send(tx, { confirmations: 0 });
    expect((await sendAgain).receipt.status).to.equal("success");
  });
});
