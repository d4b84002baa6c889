/**
 * The ledger's Solidity encodings (contracts/ledger/PoTHashes.sol and the ledger's EIP-712 domain)
 * against the committed protocol vectors (test/vectors/protocol.json) and the TypeScript core.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import vectors from "../vectors/protocol.json";
import * as P from "../../src/protocol";
import type { LedgerHashesHarness } from "../../typechain-types";
import { createJob, ledgerFixture, runStage } from "./helpers/ledger-fixtures";

async function harnessFixture(): Promise<LedgerHashesHarness> {
  const f = await ethers.getContractFactory("LedgerHashesHarness");
  const h = await f.deploy();
  await h.waitForDeployment();
  return h as unknown as LedgerHashesHarness;
}

describe("ledger: encodings match the protocol vectors", () => {
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

  it("domain separator (vectors, and the deployed ledger's OpenZeppelin EIP712)", async () => {
    const h = await loadFixture(harnessFixture);
    for (const v of vectors.domain) {
      expect(await h.domainSeparatorFor(BigInt(v.chainId), v.ledger.toLowerCase())).to.equal(v.separator);
    }
    const f = await loadFixture(ledgerFixture);
    const ledger = (await f.ledger.getAddress()) as `0x${string}`;
    expect(await f.ledger.domainSeparator()).to.equal(P.domainSeparator({ chainId: f.chainId, ledger }));
    const d = await f.ledger.eip712Domain();
    expect([d.name, d.version, d.chainId, d.verifyingContract]).to.deep.equal([
      P.DOMAIN_NAME,
      P.DOMAIN_VERSION,
      f.chainId,
      ledger,
    ]);
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

  it("the ledger's stored events reproduce with the TypeScript core (declaration, header, block)", async () => {
    const f = await loadFixture(ledgerFixture);
    const jobId = await createJob(f);
    await runStage(f, jobId, 1, 3);
    const [hdr] = await f.ledger.queryFilter(f.ledger.filters.HeaderSubmitted(jobId, 1));
    const a = hdr.args;
    expect(
      P.headerHash(f.domain, {
        jobId,
        stage: 1,
        parentHash: a.parentHash as `0x${string}`,
        resultHash: a.resultHash as `0x${string}`,
        rho: a.rho as `0x${string}`,
        resultCid: a.resultCid as `0x${string}`,
        timestamp: a.timestamp,
        builder: a.builder as `0x${string}`,
      }),
    ).to.equal(a.headerHash);
    const [blk] = await f.ledger.queryFilter(f.ledger.filters.BlockWrapped());
    const b = blk.args;
    expect(
      P.blockHash(f.domain, {
        index: b.index,
        parentBlockHash: b.parentBlockHash as `0x${string}`,
        jobId: b.jobId,
        stage: Number(b.stage),
        headerHash: b.headerHash as `0x${string}`,
        attesters: [...b.attesters] as `0x${string}`[],
        wrapper: b.wrapper as `0x${string}`,
        timestamp: b.timestamp,
      }),
    ).to.equal(b.blockHash);
    expect(await f.ledger.lastBlockHash()).to.equal(b.blockHash);
  });
});
