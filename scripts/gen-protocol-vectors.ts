/**
 * Writes test/vectors/protocol.json: fixed inputs and the hashes the protocol core computes for
 * them. Run only when an encoding changes on purpose (a hard fork), then commit the file:
 *   npx ts-node --transpile-only scripts/gen-protocol-vectors.ts
 * The TypeScript tests re-compute every vector, and the contract tests check the ledger's Solidity
 * against the same file, so the two implementations cannot drift apart unnoticed.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256, toBytes, type Address, type Hex } from "viem";
import * as p from "../src/protocol";

const h = (label: string): Hex => keccak256(toBytes(label));
const addr = (n: number): Address => `0x${n.toString(16).padStart(40, "0")}` as Address;

function losses(step: number, batch: number): Float32Array {
  return Float32Array.from({ length: batch }, (_, j) => Math.fround(2.302585 - 0.01 * step + 0.001 * j));
}

const domainInputs = [
  { chainId: 31337n, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address },
  { chainId: 11155111n, verifyingContract: "0x00000000000000000000000000000000000000Aa" as Address },
];
const domain = p.domainSeparator(domainInputs[0]);

const rhoCases = [
  { jobId: 1n, stage: 1, steps: 2, batch: 2 },
  { jobId: 7n, stage: 12, steps: 5, batch: 64 },
];

/** Step checkpoints: stages of T steps checkpointed every e (e = 0: none; e >= T: only S_{i+1}). */
const checkpointCases = [
  { stepsPerStage: 10, checkpointEvery: 3 },
  { stepsPerStage: 8, checkpointEvery: 4 },
  { stepsPerStage: 7, checkpointEvery: 1 },
  { stepsPerStage: 5, checkpointEvery: 5 },
  { stepsPerStage: 5, checkpointEvery: 0 },
];

const vectors = {
  description: "PoT protocol test vectors; see docs/PROTOCOL.md. Integers are decimal strings.",
  domain: domainInputs.map((d) => ({
    chainId: d.chainId.toString(),
    verifyingContract: d.verifyingContract,
    separator: p.domainSeparator(d),
  })),
  typehashes: {
    COMMITMENT_TYPEHASH: p.COMMITMENT_TYPEHASH,
    DECLARATION_TYPEHASH: p.DECLARATION_TYPEHASH,
    HEADER_TYPEHASH: p.HEADER_TYPEHASH,
    ATTESTATION_TYPEHASH: p.ATTESTATION_TYPEHASH,
    BLOCK_TYPEHASH: p.BLOCK_TYPEHASH,
    KERNEL_TYPEHASH: p.KERNEL_TYPEHASH,
    FTC_TYPEHASH: p.FTC_TYPEHASH,
    SEAT_TYPEHASH: p.SEAT_TYPEHASH,
    COMMITTEE_SEED_TYPEHASH: p.COMMITTEE_SEED_TYPEHASH,
    JURY_SEED_TYPEHASH: p.JURY_SEED_TYPEHASH,
    JURY_VOTE_TYPEHASH: p.JURY_VOTE_TYPEHASH,
    RHO_SALT_TYPEHASH: p.RHO_SALT_TYPEHASH,
    STAGE_OUTCOME_TYPEHASH: p.STAGE_OUTCOME_TYPEHASH,
  },
  rho: rhoCases.map((c) => {
    const stepLosses = Array.from({ length: c.steps }, (_, s) => losses(s, c.batch));
    const intermediate = h(`intermediate-${c.jobId}-${c.stage}`);
    const final = h(`final-${c.jobId}-${c.stage}`);
    return {
      domain,
      jobId: c.jobId.toString(),
      stage: c.stage,
      stepLossesF32Hex: stepLosses.map((l) => `0x${Buffer.from(l.buffer).toString("hex")}`),
      intermediateStateHash: intermediate,
      finalStateHash: final,
      salt: `0x${p.rhoSalt({ domain, jobId: c.jobId, stage: c.stage }).toString("hex")}`,
      rho: p.computeRho({ domain, jobId: c.jobId, stage: c.stage }, stepLosses, intermediate, final),
    };
  }),
  commitment: [1, 2].map((n) => {
    const input = {
      domain,
      rho: h(`rho${n}`),
      rand: h(`rand${n}`),
      declarer: addr(0x1000 + n),
      jobId: BigInt(n),
      stage: n * 3,
    };
    return { ...input, jobId: input.jobId.toString(), commitment: p.commitmentHash(input) };
  }),
  declaration: [1, 2].map((n) => {
    const d = {
      jobId: BigInt(n),
      stage: n + 1,
      parentHash: h(`S${n}`),
      resultHash: h(`S${n + 1}`),
      commitment: h(`c${n}`),
      timestamp: 1_700_000_000n + BigInt(n),
      declarer: addr(0x2000 + n),
    };
    return {
      domain,
      ...d,
      jobId: d.jobId.toString(),
      timestamp: d.timestamp.toString(),
      hash: p.declarationHash(domain, d),
    };
  }),
  header: [1, 2].map((n) => {
    const hd = {
      jobId: BigInt(n),
      stage: n,
      parentHash: h(`S${n - 1}`),
      resultHash: h(`S${n}`),
      rho: h(`rho${n}`),
      resultCid: "0x01551220" + h(`cid${n}`).slice(2),
      timestamp: 1_700_000_100n + BigInt(n),
      builder: addr(0x3000 + n),
    } as p.Header;
    return {
      domain,
      ...hd,
      jobId: hd.jobId.toString(),
      timestamp: hd.timestamp.toString(),
      hash: p.headerHash(domain, hd),
    };
  }),
  attestation: [1, 2].map((n) => {
    const a = { headerHash: h(`header${n}`), resultHash: h(`S${n}`), jobId: BigInt(n), stage: n };
    return {
      domain,
      ...a,
      jobId: a.jobId.toString(),
      structHash: p.attestationStructHash(a),
      digest: p.attestationDigest(domain, a),
    };
  }),
  block: [1, 2].map((n) => {
    const b = {
      index: BigInt(n),
      parentBlockHash: h(`block${n - 1}`),
      jobId: BigInt(n),
      stage: n,
      headerHash: h(`header${n}`),
      attesters: Array.from({ length: n + 1 }, (_, i) => addr(0x4000 + i)),
      wrapper: addr(0x5000 + n),
      timestamp: 1_700_000_200n + BigInt(n),
    };
    return {
      domain,
      ...b,
      index: b.index.toString(),
      jobId: b.jobId.toString(),
      timestamp: b.timestamp.toString(),
      hash: p.blockHash(domain, b),
    };
  }),
  kernel: [p.SealKind.Declaration, p.SealKind.Header].map((kind, n) => {
    const k = {
      domain,
      kind,
      staker: addr(0x6000 + n),
      jobId: BigInt(n + 1),
      stage: n + 2,
      timestamp: 1_700_000_300n,
    };
    const hash = p.kernelHash(k);
    const weight = p.coinAge(10n ** 21n, 1_700_000_000n, 1_700_000_300n, 86_400n);
    return {
      ...k,
      jobId: k.jobId.toString(),
      timestamp: k.timestamp.toString(),
      hash,
      stake: (10n ** 21n).toString(),
      stakeSince: "1700000000",
      now: "1700000300",
      maxAgeSeconds: "86400",
      weight: weight.toString(),
      targetPerCoinSecond: (2n ** 177n).toString(),
      passes: p.kernelPasses(hash, weight, 2n ** 177n),
    };
  }),
  // Stakes are active stakes in wei; the draw runs over their draw weights (whole gwei, rounded down:
  // the second staker of case 0 holds stake but no draw weight).
  followTheCoin: [
    { k: 1, stakes: [5n * p.DRAW_WEIGHT_UNIT + 999_999_999n, 999_999_999n, 7n * p.DRAW_WEIGHT_UNIT] },
    { k: 3, stakes: [10n ** 18n, 3n * 10n ** 18n, 2n * 10n ** 18n, 0n, 10n ** 20n, 5n * 10n ** 17n] },
    { k: 5, stakes: Array.from({ length: 12 }, (_, i) => BigInt((i * 7919) % 13) * 10n ** 18n) },
  ].map((c, n) => {
    const seed = h(`ftc-seed-${n}`);
    const stakes = c.stakes.map((stake, i) => ({ staker: addr(0x7000 + i), stake }));
    const weights = stakes.map((s) => ({ staker: s.staker, stake: p.drawWeight(s.stake) }));
    return {
      seed,
      k: c.k,
      stakes: stakes.map((s, i) => ({
        staker: s.staker,
        stake: s.stake.toString(),
        weight: weights[i].stake.toString(),
      })),
      drawnIndices: p.followTheCoin(seed, weights, c.k),
    };
  }),
  // Seats with replacement (PoTStaking drawSeats): an index may repeat; `excluded` (the index of the
  // excluded staker, or null for nobody) never appears. Case 1 excludes the staker holding most weight.
  drawSeats: [
    { k: 7, excluded: null, stakes: [3n * 10n ** 18n, 0n, 10n ** 18n, 5n * 10n ** 17n] },
    { k: 5, excluded: 2, stakes: [10n ** 18n, 2n * 10n ** 18n, 40n * 10n ** 18n, 0n, 3n * 10n ** 18n] },
    { k: 1, excluded: 0, stakes: [10n ** 18n, 10n ** 18n] },
  ].map((c, n) => {
    const seed = h(`seat-seed-${n}`);
    const stakes = c.stakes.map((stake, i) => ({ staker: addr(0x7100 + i), stake }));
    const weights = stakes.map((s) => ({ staker: s.staker, stake: p.drawWeight(s.stake) }));
    const excluded = c.excluded === null ? undefined : stakes[c.excluded].staker;
    return {
      seed,
      k: c.k,
      excluded: c.excluded,
      stakes: stakes.map((s, i) => ({
        staker: s.staker,
        stake: s.stake.toString(),
        weight: weights[i].stake.toString(),
      })),
      seatIndices: p.drawSeats(seed, weights, c.k, excluded),
    };
  }),
  seeds: {
    committee: {
      domain,
      headerHash: h("header1"),
      randomness: h("blockhash"),
      round: 2,
      seed: p.committeeSeed(domain, h("header1"), h("blockhash"), 2),
    },
    jury: {
      domain,
      jobId: "3",
      stage: 4,
      randomness: h("blockhash"),
      seed: p.jurySeed(domain, 3n, 4, h("blockhash")),
    },
  },
  juryVote: {
    domain,
    jobId: "3",
    stage: 4,
    round: 1,
    juror: "0x00000000000000000000000000000000000000A1",
    resultHash: h("jury-result"),
    rho: h("jury-rho"),
    salt: h("jury-salt"),
    commitment: p.juryVoteCommitment({
      domain,
      jobId: 3n,
      stage: 4,
      round: 1,
      juror: "0x00000000000000000000000000000000000000A1",
      resultHash: h("jury-result"),
      rho: h("jury-rho"),
      salt: h("jury-salt"),
    }),
  },
  // Stage outcomes (a declaration's resultHash): without test set or checkpoints, and with both
  // (loss 0.25 as float32 bits, accuracy 97.3333 % in ppm, a checkpoint root).
  outcome: [
    {
      stateHash: h("S1"),
      checkpointRoot: p.EMPTY_CHECKPOINT_ROOT,
      heldOutLoss: p.NO_METRIC,
      heldOutAccuracy: p.NO_METRIC,
    },
    {
      stateHash: h("S2"),
      checkpointRoot: h("checkpoint-root"),
      heldOutLoss: p.float32Bits(0.25),
      heldOutAccuracy: p.heldOutMetric({ loss: 0.25, correct: 146, count: 150 }).heldOutAccuracy,
    },
  ].map((o) => ({ ...o, resultHash: p.outcomeHash(o) })),
  checkpoints: {
    typehash: p.CHECKPOINT_TYPEHASH,
    cases: checkpointCases.map(({ stepsPerStage, checkpointEvery }) => {
      const steps = p.checkpointSteps(stepsPerStage, checkpointEvery);
      const stateHashes = steps.map((_, j) => h(`checkpoint-${stepsPerStage}-${checkpointEvery}-${j}`));
      return {
        stepsPerStage,
        checkpointEvery,
        steps,
        segments: steps.map((_, j) => p.segmentBounds(stepsPerStage, checkpointEvery, j)),
        stateHashes,
        leaves: p.checkpointLeaves(stateHashes),
        root: p.checkpointRoot(stateHashes),
        proofs: stateHashes.map((_, j) => p.checkpointProof(stateHashes, j)),
      };
    }),
  },
};

const out = join(__dirname, "..", "test", "vectors", "protocol.json");
writeFileSync(out, JSON.stringify(vectors, null, 2) + "\n");
console.log(`wrote ${out}`);
