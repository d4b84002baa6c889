/**
 * The protocol's Solidity encodings (contracts/lib/PoTHashes.sol through contracts/test/PoTHashesHarness.sol,
 * and PoTStages' EIP-712 domain) against the committed protocol vectors (test/vectors/protocol.json) and the
 * TypeScript core (src/protocol), and the hashes the split contracts store and emit recomputed in TypeScript.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Hex } from "viem";
import vectors from "../../vectors/protocol.json";
import * as P from "../../../src/protocol";
import type { PoTHashesHarness } from "../../../typechain-types";
import { protocolDomain } from "../../../deploy/suite";
import {
  createJob,
  deploySuiteFixture,
  RESULT_CID,
  runStage,
  SUITE_DOMAIN_VERSION,
  type SuiteFixture,
} from "../helpers/suite-fixtures";
import { CHECKPOINT_TYPEHASH, checkpointRoot } from "../../../src/protocol/checkpoints";

async function harnessFixture(): Promise<PoTHashesHarness> {
  const f = await ethers.getContractFactory("PoTHashesHarness");
  const h = await f.deploy();
  await h.waitForDeployment();
  return h as unknown as PoTHashesHarness;
}
async function suiteFixture(): Promise<SuiteFixture> {
  return deploySuiteFixture(4);
}

describe("split contracts: encodings match the protocol vectors and src/protocol", () => {
  it("type hashes", async () => {
    const h = await loadFixture(harnessFixture);
    const t = vectors.typehashes;
    expect(await h.typehashes()).to.deep.equal([
      t.COMMITMENT_TYPEHASH,
      t.DECLARATION_TYPEHASH,
      t.HEADER_TYPEHASH,
      t.ATTESTATION_TYPEHASH,
      t.BLOCK_TYPEHASH,
      t.KERNEL_TYPEHASH,
      t.FTC_TYPEHASH,
      t.COMMITTEE_SEED_TYPEHASH,
      t.JURY_SEED_TYPEHASH,
    ]);
  });

  it("stage outcomes: PoTHashes.outcome matches the vectors and src/protocol's outcomeHash", async () => {
    const h = await loadFixture(harnessFixture);
    expect(await h.outcomeTypehash()).to.equal(vectors.typehashes.STAGE_OUTCOME_TYPEHASH);
    expect(vectors.outcome.length).to.be.at.least(2);
    for (const v of vectors.outcome) {
      const o = {
        stateHash: v.stateHash as Hex,
        checkpointRoot: v.checkpointRoot as Hex,
        heldOutLoss: v.heldOutLoss,
        heldOutAccuracy: v.heldOutAccuracy,
      };
      expect(P.outcomeHash(o)).to.equal(v.resultHash);
      expect(await h.outcome(o)).to.equal(v.resultHash);
    }
    // every field is bound: changing any one changes the hash on both sides alike
    const base = vectors.outcome[1];
    const o = { ...base, stateHash: base.stateHash as Hex, checkpointRoot: base.checkpointRoot as Hex };
    for (const changed of [
      { ...o, stateHash: ethers.id("other state") as Hex },
      { ...o, checkpointRoot: P.EMPTY_CHECKPOINT_ROOT },
      { ...o, heldOutLoss: o.heldOutLoss + 1 },
      { ...o, heldOutAccuracy: o.heldOutAccuracy + 1 },
    ]) {
      const r = P.outcomeHash(changed);
      expect(r).to.not.equal(base.resultHash);
      expect(await h.outcome(changed)).to.equal(r);
    }
  });

  it("checkpoint roots: PoTHashes.checkpointRoot equals the spec's Merkle tree for 0..9 checkpoints", async () => {
    const h = await loadFixture(harnessFixture);
    expect(await h.checkpointTypehash()).to.equal(CHECKPOINT_TYPEHASH);
    const states = Array.from({ length: 9 }, (_, i) => ethers.id(`checkpoint ${i}`) as Hex);
    const roots = new Set<string>();
    for (let n = 0; n <= states.length; n++) {
      const want = checkpointRoot(states.slice(0, n));
      expect(await h.checkpointRoot(states.slice(0, n)), `${n} checkpoints`).to.equal(want);
      roots.add(want);
    }
    expect(roots.size).to.equal(10); // no two lengths share a root
    expect(await h.checkpointRoot([])).to.equal(ethers.ZeroHash);
    // one checkpoint: the root is its leaf (index 0), not the state hash itself
    expect(await h.checkpointRoot([states[0]])).to.not.equal(states[0]);
    // order matters: swapping two checkpoints changes the root
    const swapped = [states[1], states[0], ...states.slice(2, 5)];
    expect(await h.checkpointRoot(swapped)).to.not.equal(checkpointRoot(states.slice(0, 5)));
    expect(await h.checkpointRoot(swapped)).to.equal(checkpointRoot(swapped));
  });

  it("commitments", async () => {
    const h = await loadFixture(harnessFixture);
    for (const v of vectors.commitment) {
      expect(await h.commitment(v.domain, v.rho, v.rand, v.declarer, BigInt(v.jobId), v.stage)).to.equal(
        v.commitment,
      );
    }
  });

  it("declarations", async () => {
    const h = await loadFixture(harnessFixture);
    for (const v of vectors.declaration) {
      expect(
        await h.declaration(
          v.domain,
          BigInt(v.jobId),
          v.stage,
          v.parentHash,
          v.resultHash,
          v.commitment,
          BigInt(v.timestamp),
          v.declarer,
        ),
      ).to.equal(v.hash);
    }
  });

  it("headers", async () => {
    const h = await loadFixture(harnessFixture);
    for (const v of vectors.header) {
      expect(
        await h.header(
          v.domain,
          BigInt(v.jobId),
          v.stage,
          v.parentHash,
          v.resultHash,
          v.rho,
          v.resultCid,
          BigInt(v.timestamp),
          v.builder,
        ),
      ).to.equal(v.hash);
    }
  });

  it("attestations (struct hash and EIP-712 digest)", async () => {
    const h = await loadFixture(harnessFixture);
    for (const v of vectors.attestation) {
      expect(await h.attestationStruct(v.headerHash, v.resultHash, BigInt(v.jobId), v.stage)).to.equal(
        v.structHash,
      );
      expect(
        await h.attestationDigest(v.domain, v.headerHash, v.resultHash, BigInt(v.jobId), v.stage),
      ).to.equal(v.digest);
    }
  });

  it("wrapped blocks", async () => {
    const h = await loadFixture(harnessFixture);
    for (const v of vectors.block) {
      expect(
        await h.wrappedBlock(
          v.domain,
          BigInt(v.index),
          v.parentBlockHash,
          BigInt(v.jobId),
          v.stage,
          v.headerHash,
          v.attesters,
          v.wrapper,
          BigInt(v.timestamp),
        ),
      ).to.equal(v.hash);
    }
  });

  it("PoS kernels and targets", async () => {
    const h = await loadFixture(harnessFixture);
    for (const v of vectors.kernel) {
      expect(
        await h.kernel(v.domain, v.kind, v.staker, BigInt(v.jobId), v.stage, BigInt(v.timestamp)),
      ).to.equal(v.hash);
      const target = await h.posTarget(BigInt(v.weight), BigInt(v.targetPerCoinSecond));
      expect(target).to.equal(P.posTarget(BigInt(v.weight), BigInt(v.targetPerCoinSecond)));
      expect(BigInt(v.hash) <= target).to.equal(v.passes);
    }
    expect(await h.posTarget(2n, ethers.MaxUint256)).to.equal(ethers.MaxUint256);
    expect(await h.posTarget(0n, 5n)).to.equal(0n);
  });

  it("committee and jury seeds", async () => {
    const h = await loadFixture(harnessFixture);
    const c = vectors.seeds.committee;
    expect(await h.committeeSeed(c.domain, c.headerHash, c.randomness, c.round)).to.equal(c.seed);
    const j = vectors.seeds.jury;
    expect(await h.jurySeed(j.domain, BigInt(j.jobId), j.stage, j.randomness)).to.equal(j.seed);
  });

  it("jury vote commitments (type hash and commitment)", async () => {
    const h = await loadFixture(harnessFixture);
    expect(await h.juryVoteTypehash()).to.equal(vectors.typehashes.JURY_VOTE_TYPEHASH);
    const v = vectors.juryVote;
    expect(
      await h.juryVote(v.domain, BigInt(v.jobId), v.stage, v.round, v.juror, v.resultHash, v.rho, v.salt),
    ).to.equal(v.commitment);
  });

  it("seeded PoS kernels (the split contracts' seal) match src/protocol's seededKernelHash", async () => {
    const h = await loadFixture(harnessFixture);
    expect(await h.seededKernelTypehash()).to.equal(P.SEEDED_KERNEL_TYPEHASH);
    for (const [i, v] of vectors.kernel.entries()) {
      const stageSeed = ethers.id(`stage seed ${i}`) as Hex;
      const k = { domain: v.domain as Hex, kind: v.kind, staker: v.staker as Hex, jobId: BigInt(v.jobId) };
      expect(
        await h.kernelSeeded(k.domain, k.kind, k.staker, k.jobId, v.stage, stageSeed, BigInt(v.timestamp)),
      ).to.equal(P.seededKernelHash({ ...k, stage: v.stage, stageSeed, timestamp: BigInt(v.timestamp) }));
    }
  });

  it("domain separators: src/protocol matches the vectors and OpenZeppelin's EIP712 (through the harness)", async () => {
    for (const v of vectors.domain) {
      expect(
        P.domainSeparator({ chainId: BigInt(v.chainId), verifyingContract: v.verifyingContract as Hex }),
      ).to.equal(v.separator);
    }
    const h = await loadFixture(harnessFixture);
    const d = await h.eip712Domain();
    expect([d.name, d.version]).to.deep.equal([P.DOMAIN_NAME, P.DOMAIN_VERSION]);
    const { chainId } = await ethers.provider.getNetwork();
    expect(await h.domainSeparator()).to.equal(
      P.domainSeparator({ chainId, verifyingContract: (await h.getAddress()) as Hex }),
    );
  });

  it("PoTStages' domain separator is the protocol domain (OpenZeppelin EIP712, version 2)", async () => {
    const f = await loadFixture(suiteFixture);
    const stages = await f.stages.getAddress();
    expect(await f.stages.domainSeparator()).to.equal(protocolDomain(f.chainId, stages));
    expect(await f.committee.domain()).to.equal(f.domain);
    expect(await f.disputes.domain()).to.equal(f.domain);
    const d = await f.stages.eip712Domain();
    expect([d.name, d.version, d.chainId, d.verifyingContract]).to.deep.equal([
      P.DOMAIN_NAME,
      SUITE_DOMAIN_VERSION,
      f.chainId,
      stages,
    ]);
  });

  it("the hashes PoTStages emits reproduce with the TypeScript core (header, revealed outcome, wrapped block)", async () => {
    const f = await loadFixture(suiteFixture);
    const jobId = await createJob(f, { numStages: 1, c: 2, k: 2 });
    await runStage(f, jobId, 1, f.miners.slice(0, 2));
    const [hdr] = await f.stages.queryFilter(f.stages.filters.HeaderSubmitted(jobId, 1));
    const h = hdr.args.header;
    expect(
      P.headerHash(f.domain, {
        jobId,
        stage: 1,
        parentHash: h.parent as Hex,
        resultHash: h.result as Hex,
        rho: h.rho as Hex,
        resultCid: RESULT_CID as Hex,
        timestamp: h.timestamp,
        builder: h.builder as Hex,
      }),
    ).to.equal(hdr.args.headerHash);
    // the outcome the header revealed hashes, in TypeScript, to the header's result
    const [rev] = await f.stages.queryFilter(f.stages.filters.OutcomeRevealed(jobId, 1));
    const o = rev.args.outcome;
    expect(
      P.outcomeHash({
        stateHash: o.stateHash as Hex,
        checkpointRoot: o.checkpointRoot as Hex,
        heldOutLoss: Number(o.heldOutLoss),
        heldOutAccuracy: Number(o.heldOutAccuracy),
      }),
    ).to.equal(h.result);
    const [blk] = await f.stages.queryFilter(f.stages.filters.BlockWrapped());
    const b = blk.args;
    expect(
      P.blockHash(f.domain, {
        index: b.index,
        parentBlockHash: b.parentBlockHash as Hex,
        jobId: b.jobId,
        stage: Number(b.stage),
        headerHash: b.headerHash as Hex,
        attesters: [...b.attesters] as Hex[],
        wrapper: b.wrapper as Hex,
        timestamp: b.timestamp,
      }),
    ).to.equal(b.blockHash);
    expect(await f.stages.lastBlockHash()).to.equal(b.blockHash);
  });
});
