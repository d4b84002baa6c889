/**
 * Re-computes every committed protocol vector (test/vectors/protocol.json) with the protocol core,
 * and cross-checks the encodings with an independent implementation (ethers' AbiCoder, keccak256
 * and TypedDataEncoder, and a from-the-spec SHA-256 chain for rho), so a bug shared by the vector
 * generator and the code under test would still be caught.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { AbiCoder, keccak256 as ethersKeccak, TypedDataEncoder, id } from "ethers";
import type { Address, Hex } from "viem";
import * as p from "../../src/protocol";
import vectors from "../vectors/protocol.json";

const abi = AbiCoder.defaultAbiCoder();
const hexToF32 = (hex: string) => new Float32Array(new Uint8Array(Buffer.from(hex.slice(2), "hex")).buffer);

describe("protocol vectors (test/vectors/protocol.json)", () => {
  it("type hashes are keccak256 of their documented type strings", () => {
    const t = vectors.typehashes;
    expect(t.COMMITMENT_TYPEHASH).to.equal(
      id(
        "PoT.Commitment(bytes32 domain,bytes32 rho,bytes32 rand,address declarer,uint64 jobId,uint32 stage)",
      ),
    );
    expect(t.ATTESTATION_TYPEHASH).to.equal(
      id("Attestation(bytes32 headerHash,bytes32 resultHash,uint64 jobId,uint32 stage)"),
    );
    expect(t.FTC_TYPEHASH).to.equal(id("PoT.FollowTheCoin(bytes32 seed,uint256 draw)"));
    expect(t.SEAT_TYPEHASH).to.equal(id("PoT.Seat(bytes32 seed,uint256 seat)"));
    for (const [name, value] of Object.entries(t))
      expect((p as unknown as Record<string, string>)[name], name).to.equal(value);
  });

  it("domain separator equals the EIP-712 domain hash (ethers TypedDataEncoder)", () => {
    for (const d of vectors.domain) {
      const domain = { chainId: BigInt(d.chainId), verifyingContract: d.verifyingContract as Address };
      expect(p.domainSeparator(domain)).to.equal(d.separator);
      expect(
        TypedDataEncoder.hashDomain({
          name: "ProofOfTraining",
          version: "2",
          chainId: d.chainId,
          verifyingContract: d.verifyingContract.toLowerCase(),
        }),
      ).to.equal(d.separator);
    }
    expect(vectors.domain[0].separator).to.not.equal(vectors.domain[1].separator);
  });

  it("training secret rho: protocol hasher and a from-the-spec SHA-256 chain agree with the vectors", () => {
    for (const v of vectors.rho) {
      const losses = v.stepLossesF32Hex.map(hexToF32);
      const ctx = { domain: v.domain as Hex, jobId: BigInt(v.jobId), stage: v.stage };
      expect(p.computeRho(ctx, losses, v.intermediateStateHash as Hex, v.finalStateHash as Hex)).to.equal(
        v.rho,
      );

      // Independent construction, straight from docs/PROTOCOL.md.
      const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
      let h = sha(
        Buffer.from(
          abi
            .encode(
              ["bytes32", "bytes32", "uint64", "uint32"],
              [p.RHO_SALT_TYPEHASH, v.domain, v.jobId, v.stage],
            )
            .slice(2),
          "hex",
        ),
      );
      expect(`0x${h.toString("hex")}`).to.equal(v.salt);
      losses.forEach((l, s) => {
        if (s === losses.length - 1)
          h = sha(h, Buffer.from([2]), Buffer.from(v.intermediateStateHash.slice(2), "hex"));
        const head = Buffer.alloc(9);
        head[0] = 1;
        head.writeUInt32BE(s, 1);
        head.writeUInt32BE(l.length, 5);
        h = sha(h, head, Buffer.from(l.buffer));
      });
      h = sha(h, Buffer.from([3]), Buffer.from(v.finalStateHash.slice(2), "hex"));
      expect(`0x${h.toString("hex")}`).to.equal(v.rho);
    }
  });

  it("commitments", () => {
    for (const v of vectors.commitment) {
      const c = {
        ...v,
        domain: v.domain as Hex,
        rho: v.rho as Hex,
        rand: v.rand as Hex,
        declarer: v.declarer as Address,
        jobId: BigInt(v.jobId),
      };
      expect(p.commitmentHash(c)).to.equal(v.commitment);
      const enc = abi.encode(
        ["bytes32", "bytes32", "bytes32", "bytes32", "address", "uint64", "uint32"],
        [p.COMMITMENT_TYPEHASH, v.domain, v.rho, v.rand, v.declarer, v.jobId, v.stage],
      );
      expect(ethersKeccak(enc)).to.equal(v.commitment);
    }
  });

  it("training declarations", () => {
    for (const v of vectors.declaration) {
      const d = { ...v, jobId: BigInt(v.jobId), timestamp: BigInt(v.timestamp) } as unknown as p.Declaration;
      expect(p.declarationHash(v.domain as Hex, d)).to.equal(v.hash);
      const enc = abi.encode(
        ["bytes32", "bytes32", "uint64", "uint32", "bytes32", "bytes32", "bytes32", "uint64", "address"],
        [
          p.DECLARATION_TYPEHASH,
          v.domain,
          v.jobId,
          v.stage,
          v.parentHash,
          v.resultHash,
          v.commitment,
          v.timestamp,
          v.declarer,
        ],
      );
      expect(ethersKeccak(enc)).to.equal(v.hash);
    }
  });

  it("block headers", () => {
    for (const v of vectors.header) {
      const h = { ...v, jobId: BigInt(v.jobId), timestamp: BigInt(v.timestamp) } as unknown as p.Header;
      expect(p.headerHash(v.domain as Hex, h)).to.equal(v.hash);
      const enc = abi.encode(
        [
          "bytes32",
          "bytes32",
          "uint64",
          "uint32",
          "bytes32",
          "bytes32",
          "bytes32",
          "bytes32",
          "uint64",
          "address",
        ],
        [
          p.HEADER_TYPEHASH,
          v.domain,
          v.jobId,
          v.stage,
          v.parentHash,
          v.resultHash,
          v.rho,
          ethersKeccak(v.resultCid),
          v.timestamp,
          v.builder,
        ],
      );
      expect(ethersKeccak(enc)).to.equal(v.hash);
    }
  });

  it("attestations are standard EIP-712 typed data", () => {
    const d0 = vectors.domain[0];
    for (const v of vectors.attestation) {
      const a = {
        headerHash: v.headerHash as Hex,
        resultHash: v.resultHash as Hex,
        jobId: BigInt(v.jobId),
        stage: v.stage,
      };
      expect(p.attestationStructHash(a)).to.equal(v.structHash);
      expect(p.attestationDigest(v.domain as Hex, a)).to.equal(v.digest);
      const typed = TypedDataEncoder.hash(
        {
          name: "ProofOfTraining",
          version: "2",
          chainId: d0.chainId,
          verifyingContract: d0.verifyingContract.toLowerCase(),
        },
        { Attestation: [...p.ATTESTATION_TYPES.Attestation] },
        { headerHash: v.headerHash, resultHash: v.resultHash, jobId: v.jobId, stage: v.stage },
      );
      expect(typed).to.equal(v.digest);
    }
  });

  it("wrapped blocks", () => {
    for (const v of vectors.block) {
      const b = {
        ...v,
        index: BigInt(v.index),
        jobId: BigInt(v.jobId),
        timestamp: BigInt(v.timestamp),
      } as unknown as p.WrappedBlock;
      expect(p.blockHash(v.domain as Hex, b)).to.equal(v.hash);
      const enc = abi.encode(
        [
          "bytes32",
          "bytes32",
          "uint64",
          "bytes32",
          "uint64",
          "uint32",
          "bytes32",
          "address[]",
          "address",
          "uint64",
        ],
        [
          p.BLOCK_TYPEHASH,
          v.domain,
          v.index,
          v.parentBlockHash,
          v.jobId,
          v.stage,
          v.headerHash,
          v.attesters,
          v.wrapper,
          v.timestamp,
        ],
      );
      expect(ethersKeccak(enc)).to.equal(v.hash);
    }
  });

  it("PoS kernels, coin age and targets", () => {
    for (const v of vectors.kernel) {
      const k = {
        domain: v.domain as Hex,
        kind: v.kind,
        staker: v.staker as Address,
        jobId: BigInt(v.jobId),
        stage: v.stage,
        timestamp: BigInt(v.timestamp),
      };
      expect(p.kernelHash(k)).to.equal(v.hash);
      const enc = abi.encode(
        ["bytes32", "bytes32", "uint8", "address", "uint64", "uint32", "uint64"],
        [p.KERNEL_TYPEHASH, v.domain, v.kind, v.staker, v.jobId, v.stage, v.timestamp],
      );
      expect(ethersKeccak(enc)).to.equal(v.hash);
      const weight = p.coinAge(BigInt(v.stake), BigInt(v.stakeSince), BigInt(v.now), BigInt(v.maxAgeSeconds));
      expect(weight.toString()).to.equal(v.weight);
      expect(p.kernelPasses(v.hash as Hex, weight, BigInt(v.targetPerCoinSecond))).to.equal(v.passes);
    }
  });

  it("follow-the-coin draws, seats and seeds", () => {
    for (const v of vectors.followTheCoin) {
      // the draw runs over draw weights: active stake in whole gwei
      for (const s of v.stakes) expect(p.drawWeight(BigInt(s.stake)).toString()).to.equal(s.weight);
      const weights = v.stakes.map((s) => ({ staker: s.staker as Address, stake: BigInt(s.weight) }));
      expect(p.followTheCoin(v.seed as Hex, weights, v.k)).to.deep.equal(v.drawnIndices);
    }
    for (const v of vectors.drawSeats) {
      for (const s of v.stakes) expect(p.drawWeight(BigInt(s.stake)).toString()).to.equal(s.weight);
      const weights = v.stakes.map((s) => ({ staker: s.staker as Address, stake: BigInt(s.weight) }));
      const excluded = v.excluded === null ? undefined : (v.stakes[v.excluded].staker as Address);
      expect(p.drawSeats(v.seed as Hex, weights, v.k, excluded)).to.deep.equal(v.seatIndices);
      if (v.excluded !== null) expect(v.seatIndices).to.not.include(v.excluded);
    }
    const c = vectors.seeds.committee;
    expect(p.committeeSeed(c.domain as Hex, c.headerHash as Hex, c.randomness as Hex, c.round)).to.equal(
      c.seed,
    );
    const j = vectors.seeds.jury;
    expect(p.jurySeed(j.domain as Hex, BigInt(j.jobId), j.stage, j.randomness as Hex)).to.equal(j.seed);
  });

  it("jury vote commitment", () => {
    expect(p.JURY_VOTE_TYPEHASH).to.equal(vectors.typehashes.JURY_VOTE_TYPEHASH);
    const v = vectors.juryVote;
    expect(
      p.juryVoteCommitment({
        domain: v.domain as Hex,
        jobId: BigInt(v.jobId),
        stage: v.stage,
        round: v.round,
        juror: v.juror as Hex,
        resultHash: v.resultHash as Hex,
        rho: v.rho as Hex,
        salt: v.salt as Hex,
      }),
    ).to.equal(v.commitment);
  });
});
