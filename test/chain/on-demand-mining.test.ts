/**
 * ChainNudger against a real `hardhat node` that mines only on transactions (`pot node --block-time 0`):
 * it mines an empty block once the head stood still for its idle time, mines to a known target block at
 * once, notes the on-demand chain once, and never sends a request but web3_clientVersion to a node that is
 * not a development node on a network that is not local.
 */
import { expect } from "chai";
import { ChainNudger, isDevelopmentClient, type RpcRequester } from "../../src/chain/on-demand-mining";
import { startTestNode, type TestNode } from "../support/chain-node";

describe("on-demand mining: ChainNudger", function () {
  this.timeout(60_000);
  let node: TestNode;
  let rpc: RpcRequester;
  const head = async () => BigInt((await rpc.request({ method: "eth_blockNumber" })) as string);

  before(async () => {
    node = await startTestNode();
    rpc = {
      async request({ method, params }) {
        const res = await fetch(node.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: params ?? [] }),
        });
        const body = (await res.json()) as { result?: unknown; error?: { message: string } };
        if (body.error) throw new Error(body.error.message);
        return body.result;
      },
    };
  });
  after(async () => node?.stop());

  it("knows the development clients by name", () => {
    expect(isDevelopmentClient("HardhatNetwork/2.26.1/@ethereumjs/vm/7.0.0")).to.equal(true);
    expect(isDevelopmentClient("anvil/v1.7.1")).to.equal(true);
    expect(isDevelopmentClient("Geth/v1.14.0-stable/linux-amd64/go1.22")).to.equal(false);
  });

  it("mines one empty block after the idle time, and to a target block at once, noting it once", async () => {
    let now = 0;
    const notes: string[] = [];
    const nudger = new ChainNudger({
      client: rpc,
      isLocal: false, // the node says it is Hardhat: that alone makes it a development node
      idleMs: 2_000,
      now: () => now,
      notice: (m) => notes.push(m),
    });
    const h0 = await head();
    expect(await nudger.waiting(h0)).to.equal(false);
    now = 1_999;
    expect(await nudger.waiting(h0)).to.equal(false);
    expect(await head()).to.equal(h0);
    now = 2_000;
    expect(await nudger.waiting(h0)).to.equal(true);
    expect(await head()).to.equal(h0 + 1n);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/mines only on demand/);

    // The head moved: the idle time starts again.
    now = 2_500;
    expect(await nudger.waiting(h0 + 1n)).to.equal(false);
    now = 4_600;
    expect(await nudger.waiting(h0 + 1n, h0 + 10n)).to.equal(true);
    expect(await head()).to.equal(h0 + 10n);
    expect(nudger.blocksMined).to.equal(10);
    expect(notes).to.have.length(1);
  });

  it("sends nothing but web3_clientVersion to a node that is not a development node, off a local network", async () => {
    const sent: string[] = [];
    const publicNode: RpcRequester = {
      async request(args) {
        sent.push(args.method);
        if (args.method === "web3_clientVersion") return "Geth/v1.14.0-stable/linux-amd64/go1.22";
        return rpc.request(args);
      },
    };
    let now = 0;
    const nudger = new ChainNudger({ client: publicNode, isLocal: false, idleMs: 10, now: () => now });
    const h = await head();
    for (let i = 0; i < 5; i++) {
      now += 1_000;
      expect(await nudger.waiting(h)).to.equal(false);
    }
    expect(sent).to.deep.equal(["web3_clientVersion"]);
    expect(await head()).to.equal(h);
  });
});
