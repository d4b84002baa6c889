/**
 * Proof-of-stake seals (seed 002, D_PoS^td and D_PoS^bh), Peercoin style.
 *
 * A staker may seal a declaration or header at a timestamp t when
 *     uint256(kernelHash(domain, kind, staker, jobId, stage, t)) <= target(weight)
 * The kernel covers only fields the staker cannot grind: not rand, not the commitment, not the
 * result. The only free variable is t, and the ledger accepts t only within a short window below
 * block.timestamp, so a staker gets about one try per second, as in Peercoin.
 *   weight = stake * min(now - stakeSince, maxAgeSeconds)        (coin age, capped)
 *   target = min(targetPerCoinSecond * weight, 2^256 - 1)          (saturating)
 * Coin age resets (stakeSince = now) when a seal it made lands in a wrapped block.
 */
import {
  encodeAbiParameters,
  hexToBigInt,
  keccak256,
  toBytes,
  type AbiParameter,
  type Address,
  type Hex,
} from "viem";
import { assertAddress, assertBytes32, assertUint, MAX_UINT256, MAX_UINT32, MAX_UINT64 } from "./bytes";
import { InvalidArgumentError } from "./errors";
import { SealKind } from "./messages";

export const KERNEL_TYPEHASH = keccak256(
  toBytes("PoT.Kernel(bytes32 domain,uint8 kind,address staker,uint64 jobId,uint32 stage,uint64 timestamp)"),
);

export interface KernelInput {
  domain: Hex;
  kind: SealKind;
  staker: Address;
  jobId: bigint;
  stage: number;
  timestamp: bigint;
}

export function kernelHash(k: KernelInput): Hex {
  return kernelOf(KERNEL_TYPEHASH, k);
}

/**
 * keccak256(abi.encode(typehash, domain, kind, staker, jobId, stage, [stageSeed,] timestamp)): the shared
 * encoding of `kernelHash` and `seededKernelHash` (the seed only in the latter).
 */
function kernelOf(typehash: Hex, k: KernelInput, stageSeed?: Hex): Hex {
  if (k.kind !== SealKind.Declaration && k.kind !== SealKind.Header) {
    throw new InvalidArgumentError(
      "kernel.kind",
      `expected SealKind.Declaration (1) or Header (2), got ${k.kind}`,
    );
  }
  const seed = stageSeed === undefined ? [] : [assertBytes32("kernel.stageSeed", stageSeed)];
  const types: AbiParameter[] = [
    { type: "bytes32" },
    { type: "bytes32" },
    { type: "uint8" },
    { type: "address" },
    { type: "uint64" },
    { type: "uint32" },
    ...seed.map(() => ({ type: "bytes32" })),
    { type: "uint64" },
  ];
  const values: unknown[] = [
    typehash,
    assertBytes32("kernel.domain", k.domain),
    k.kind,
    assertAddress("kernel.staker", k.staker),
    assertUint("kernel.jobId", k.jobId, MAX_UINT64),
    Number(assertUint("kernel.stage", k.stage, MAX_UINT32)),
    ...seed,
    assertUint("kernel.timestamp", k.timestamp, MAX_UINT64),
  ];
  return keccak256(encodeAbiParameters(types, values));
}

/** Coin age in (token wei x seconds): stake times its age, the age capped at maxAgeSeconds. */
export function coinAge(stake: bigint, stakeSince: bigint, now: bigint, maxAgeSeconds: bigint): bigint {
  assertUint("stake", stake);
  assertUint("stakeSince", stakeSince, MAX_UINT64);
  assertUint("now", now, MAX_UINT64);
  assertUint("maxAgeSeconds", maxAgeSeconds, MAX_UINT64);
  if (now < stakeSince)
    throw new InvalidArgumentError("now", `is before stakeSince (${now} < ${stakeSince})`);
  const age = now - stakeSince;
  return stake * (age < maxAgeSeconds ? age : maxAgeSeconds);
}

/** The kernel target for a weight; saturates at 2^256-1 instead of overflowing. */
export function posTarget(weight: bigint, targetPerCoinSecond: bigint): bigint {
  assertUint("weight", weight);
  assertUint("targetPerCoinSecond", targetPerCoinSecond);
  if (weight === 0n || targetPerCoinSecond === 0n) return 0n;
  if (weight > MAX_UINT256 / targetPerCoinSecond) return MAX_UINT256;
  return weight * targetPerCoinSecond;
}

/** Whether a kernel hash meets the target of a staker's weight. */
export function kernelPasses(hash: Hex, weight: bigint, targetPerCoinSecond: bigint): boolean {
  return hexToBigInt(assertBytes32("kernel hash", hash)) <= posTarget(weight, targetPerCoinSecond);
}

/**
 * Searches the timestamps the stages contract would accept now, newest first, for one whose seeded kernel
 * (`seededKernelHash`: the stage's seed included) passes `posTarget(weight, targetPerUnit)`. Returns
 * undefined when none does (try again next second). `window` is sealWindowSeconds: accepted timestamps
 * are now-window+1 .. now. On the split contracts the weight is the active stake in whole gwei and the
 * target factor `targetPerGwei`.
 */
export function findSealTimestamp(
  base: Omit<KernelInput, "timestamp"> & { stageSeed: Hex },
  weight: bigint,
  targetPerUnit: bigint,
  now: bigint,
  window: bigint,
): bigint | undefined {
  assertUint("window", window, MAX_UINT32);
  const target = posTarget(weight, targetPerUnit);
  for (let t = now; t > now - window && t >= 0n; t--) {
    if (hexToBigInt(seededKernelHash({ ...base, timestamp: t })) <= target) return t;
  }
  return undefined;
}

export const SEEDED_KERNEL_TYPEHASH = keccak256(
  toBytes(
    "PoT.SeededKernel(bytes32 domain,uint8 kind,address staker,uint64 jobId,uint32 stage,bytes32 stageSeed,uint64 timestamp)",
  ),
);

/**
 * The kernel of the split contracts (PoTStages, PoTHashes.kernelSeeded): `kernelHash` plus the stage's
 * seed (StageOpened.seed, the hash of the block before the stage opened), so no seal can be computed
 * before the stage exists. There the weight is the staker's active stake in whole gwei (not coin age),
 * so a seal that just landed does not lower its staker's next chance.
 */
export function seededKernelHash(k: KernelInput & { stageSeed: Hex }): Hex {
  return kernelOf(SEEDED_KERNEL_TYPEHASH, k, k.stageSeed);
}
