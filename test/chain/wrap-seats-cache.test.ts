/**
 * `readJobEvents` reads the seats of each wrap from its transaction once per client: on a real hardhat node
 * with two wrapped stages, the RPC calls of the client are counted (a counting transport in front of HTTP),
 * and a second fold of the job sends no new eth_getTransactionByHash.
 */
import { expect } from "chai";
import { createPublicClient, custom, http, keccak256, toHex, type EIP1193RequestFn } from "viem";
import { readJobEvents } from "../../src/chain/job-events";
import { LruMap } from "../../src/chain/lru-map";
import { sendCreateJob } from "../../src/employer/ledger";
import {
  finalizeStage,
  startEmployerNet,
  untrainedJobTerms,
  type EmployerNet,
} from "../support/employer-chain";

describe("chain: the seats of each wrap are read once per client (LRU by transaction hash)", function () {
  this.timeout(120_000);
  let net: EmployerNet;

  before(async () => {
    net = await startEmployerNet(3);
  });
  after(async () => {
    await net?.stop();
  });

  it("a second readJobEvents sends no eth_getTransactionByHash for the wraps it already read", async () => {
    const { session } = net.employer;
    const now = (await session.publicClient.getBlock()).timestamp;
    const terms = untrainedJobTerms(2, now + 3600n);
    const { jobId } = await sendCreateJob(session.sender, net.handle.suite, terms, 10n ** 15n);
    for (const stage of [1, 2]) {
      await finalizeStage(net, jobId, stage, {
        rho: keccak256(toHex(`rho ${stage}`)),
        stateHash: keccak256(toHex(`S${stage}`)),
        resultCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
      });
    }

    const methods: string[] = [];
    const upstream = http(net.node.url)({});
    const request: EIP1193RequestFn = async (args) => {
      methods.push(args.method);
      return upstream.request(args);
    };
    const client = createPublicClient({ transport: custom({ request }) });
    const handle = { ...net.handle, client };
    const txReads = () => methods.filter((m) => m === "eth_getTransactionByHash").length;

    const first = await readJobEvents(handle, jobId);
    expect(first.stages.map((s) => s.wrapped !== undefined)).to.deep.equal([true, true]);
    expect(txReads()).to.equal(2);
    const seats = first.stages.map((s) => [...(s.seats ?? [])]);
    expect(seats[0]).to.have.length(1); // K = 1: the one committee seat the wrap paid

    const logsBefore = methods.filter((m) => m === "eth_getLogs").length;
    first.stages[0].seats!.pop(); // a caller's copy: the cache keeps its own
    const second = await readJobEvents(handle, jobId);
    expect(txReads(), "no new transaction reads").to.equal(2);
    expect(methods.filter((m) => m === "eth_getLogs").length).to.be.greaterThan(logsBefore);
    expect(second.stages.map((s) => s.seats)).to.deep.equal(seats);

    // another client has its own cache: it reads the wraps itself
    const other = await readJobEvents(net.handle, jobId);
    expect(other.stages.map((s) => s.seats)).to.deep.equal(second.stages.map((s) => s.seats));
  });

  it("the LRU forgets the least recently used entry first", () => {
    const lru = new LruMap<string, number>(2);
    lru.set("a", 1).set("b", 2);
    expect(lru.get("a")).to.equal(1); // a is now the most recent
    lru.set("c", 3);
    expect([lru.has("a"), lru.has("b"), lru.has("c"), lru.size]).to.deep.equal([true, false, true, 2]);
    expect(() => new LruMap(0)).to.throw(RangeError);
  });
});
