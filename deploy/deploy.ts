/**
 * Deploys the PoT contracts (token, staking, ledger) and wires them together.
 *
 *   npx hardhat run deploy/deploy.ts --network <hardhat|localhost|testnet>
 *
 * writes deployments/<network>-<chainId>.json (addresses, chain id, deploy block, parameters), the file
 * the agents read. `deployPoT(signer, params)` does the same from tests and scripts without writing.
 * Parameters: docs/contracts/ledger.md. `localParams()` is fast (small windows, kernels always pass,
 * faucet on); `testnetParams()` is realistic (faucet on, capped). These two are the only parameter sets that
 * enable the faucet, and `main` (and `pot deploy`) deploy only to hardhat, localhost and testnet
 * (`paramsForNetwork`): a deployment where POT has value (mainnet) must pass its own params with
 * `token.faucet: false` to `deployPoT` (the faucet is then off for good).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Signer } from "ethers";
import { ethers, network } from "hardhat";
import type { PoTLedger, PoTStaking, PoTToken } from "../typechain-types";
import type { LedgerParamsStruct } from "../typechain-types/contracts/PoTLedger";

const E18 = 10n ** 18n;

export interface TokenParams {
  /** Genesis holders and amounts (wei). */
  genesis: { holder: string; amount: bigint }[];
  /** Whether `faucet()` works: true only on local and test networks, never where POT has value. */
  faucet: boolean;
  faucetAmount: bigint;
  faucetCooldown: bigint;
  /** The most the faucet can ever mint in total (wei); at least faucetAmount when the faucet is on. */
  faucetCap: bigint;
}

export interface StakingParams {
  /** Seconds unbonding stake stays slashable; must exceed the longest a stage can stay open. */
  unbondingDelay: bigint;
  maxCoinAgeSeconds: bigint;
  /**
   * Blocks per draw epoch: committee and jury draws use the stake weights as of the start of their
   * randomness block's epoch. Must be >= the ledger's poaWindowBlocks (the ledger's constructor checks it);
   * the jury must be drawn within min(256, epochBlocks) blocks of its randomness block.
   */
  epochBlocks: bigint;
  /** The reporter's share of a slash in basis points (<= 1000); the rest is burned. */
  slashBountyBps: bigint;
}

export interface LedgerParams {
  sealWindowSeconds: number;
  closeDelayBlocks: number;
  poaWindowBlocks: number;
  poaMaxRounds: number;
  juryWindowSeconds: number;
  minStageSeconds: number;
  minJobSeconds: number;
  jurySize: number;
  builderBps: number;
  attesterBps: number;
  maxC: number;
  maxK: number;
  dummyC: number;
  dummyK: number;
  dummyStageSeconds: number;
  targetPerCoinSecond: bigint;
  minStake: bigint;
  coinbasePerCoinAge: bigint;
  coinbaseCap: bigint;
  declarationSlash: bigint;
  jurorSlash: bigint;
  dummyInitialStateHash: string;
  /** Hex bytes of the dummy job's spec CID. */
  dummySpecCid: string;
}

export interface PoTParams {
  token: TokenParams;
  staking: StakingParams;
  ledger: LedgerParams;
}

export interface PoTDeployment {
  token: PoTToken;
  staking: PoTStaking;
  ledger: PoTLedger;
  addresses: { token: string; staking: string; ledger: string; jury: string; verifier: string };
  chainId: bigint;
  deployBlock: number;
}

/**
 * The built-in dummy job (src/miner/dummy-job.ts, docs/protocol/dummy-job.md): its spec is named by
 * this UTF-8 label, and its S_0 hashes to DUMMY_STATE. test/miner/dummy-job.test.ts checks that the
 * constant equals `(await dummyJob()).s0Hash`, so miners never refuse the dummy job of a deployment.
 */
export const DUMMY_SPEC = ethers.hexlify(ethers.toUtf8Bytes("pot-dummy-job-v1"));
export const DUMMY_STATE = "0x562b7f3779a4fee048366f72b7ed8856edc7f9f0f6ea24492a520ff3aecd3559";

/** The reporter's share of every slash (10%, the most PoTStaking allows); the other 90% is burned. */
export const SLASH_BOUNTY_BPS = 1000n;

/** Fast parameters for the in-process network and `hardhat node`: kernels always pass, faucet on. */
export function localParams(genesis: TokenParams["genesis"] = []): PoTParams {
  return {
    // faucet: 100 drips of 10,000 POT in total, a tenth of the usual local genesis (10 x 1,000,000 POT)
    token: {
      genesis,
      faucet: true,
      faucetAmount: 10_000n * E18,
      faucetCooldown: 60n,
      faucetCap: 1_000_000n * E18,
    },
    // epochBlocks >= poaWindowBlocks (20); a new stake is drawable from the next 32-block epoch
    staking: {
      unbondingDelay: 7n * 24n * 3600n,
      maxCoinAgeSeconds: 30n * 24n * 3600n,
      epochBlocks: 32n,
      slashBountyBps: SLASH_BOUNTY_BPS,
    },
    ledger: {
      sealWindowSeconds: 60,
      closeDelayBlocks: 2,
      poaWindowBlocks: 20,
      poaMaxRounds: 3,
      juryWindowSeconds: 600,
      minStageSeconds: 10,
      minJobSeconds: 60,
      jurySize: 3,
      builderBps: 2000,
      attesterBps: 2000,
      maxC: 16,
      maxK: 16,
      dummyC: 2,
      dummyK: 1,
      dummyStageSeconds: 60,
      targetPerCoinSecond: ethers.MaxUint256,
      minStake: 1n * E18,
      coinbasePerCoinAge: 1n, // 1 PoT wei per 1e18 wei-seconds: 1 PoT staked for a day mints 86400 wei
      coinbaseCap: 10n * E18,
      declarationSlash: 100n * E18,
      jurorSlash: 100n * E18,
      dummyInitialStateHash: DUMMY_STATE,
      dummySpecCid: DUMMY_SPEC,
    },
  };
}

/** Realistic parameters for a public testnet (12 s blocks): PoS difficulty on, longer windows. */
export function testnetParams(genesis: TokenParams["genesis"] = []): PoTParams {
  const p = localParams(genesis);
  return {
    // faucet: 5 drips of 1,000 POT in total, ever. Miners are funded from the genesis; ten of them at the
    // default stake (10 x minStake = 1,000 POT) hold 10,000 POT, so all faucet accounts together hold at
    // most a third of the stake however many fresh addresses call it (docs/contracts/staking.md).
    token: { ...p.token, faucetAmount: 1_000n * E18, faucetCooldown: 24n * 3600n, faucetCap: 5_000n * E18 },
    // 256-block epochs (~51 min): >= poaWindowBlocks (50), and the jury keeps BLOCKHASH's full window
    staking: {
      unbondingDelay: 14n * 24n * 3600n,
      maxCoinAgeSeconds: 90n * 24n * 3600n,
      epochBlocks: 256n,
      slashBountyBps: SLASH_BOUNTY_BPS,
    },
    ledger: {
      ...p.ledger,
      sealWindowSeconds: 120,
      closeDelayBlocks: 5,
      poaWindowBlocks: 50,
      poaMaxRounds: 4,
      juryWindowSeconds: 6 * 3600,
      minStageSeconds: 300,
      minJobSeconds: 3600,
      jurySize: 5,
      dummyC: 3,
      dummyK: 3,
      dummyStageSeconds: 600,
      // A staker with 1000 PoT aged one hour (3.6e24 wei-s) passes a kernel with probability ~3.6e24*t/2^256.
      // t = 2^256 / 3.6e25 makes that ~10% per second of seal window.
      targetPerCoinSecond: ethers.MaxUint256 / 36_000_000_000_000_000_000_000_000n,
      minStake: 100n * E18,
      coinbasePerCoinAge: 1n,
      coinbaseCap: 50n * E18,
      declarationSlash: 500n * E18,
      jurorSlash: 500n * E18,
    },
  };
}

/** Networks the shipped parameter sets are for (both enable the faucet). */
export const FAUCET_NETWORKS: readonly string[] = ["hardhat", "localhost", "testnet"];

/**
 * The shipped parameters of network `name`: `localParams` on hardhat and localhost, `testnetParams` on
 * testnet. Throws for any other network: both enable the faucet, which must stay off wherever POT has
 * value (such a deployment passes its own params with `token.faucet = false` to `deployPoT`).
 */
export function paramsForNetwork(name: string, genesis: TokenParams["genesis"]): PoTParams {
  if (name === "hardhat" || name === "localhost") return localParams(genesis);
  if (name === "testnet") return testnetParams(genesis);
  throw new Error(
    `No shipped parameters for network "${name}": the local and testnet ones enable the faucet. Deploy to ` +
      `${FAUCET_NETWORKS.join(", ")}, or pass your own parameters with token.faucet = false to deployPoT.`,
  );
}

/** Deploys token, staking and ledger from `signer` and wires `setLedger` on token and staking. */
export async function deployPoT(signer: Signer, params: PoTParams): Promise<PoTDeployment> {
  const tokenF = await ethers.getContractFactory("PoTToken", signer);
  const token = (await tokenF.deploy(
    params.token.genesis.map((g) => g.holder),
    params.token.genesis.map((g) => g.amount),
    params.token.faucet,
    params.token.faucetAmount,
    params.token.faucetCooldown,
    params.token.faucetCap,
  )) as unknown as PoTToken;
  await token.waitForDeployment();
  const deployBlock = (await token.deploymentTransaction()!.wait())!.blockNumber;
  const stakingF = await ethers.getContractFactory("PoTStaking", signer);
  const staking = (await stakingF.deploy(
    await token.getAddress(),
    params.staking.unbondingDelay,
    params.staking.maxCoinAgeSeconds,
    params.staking.epochBlocks,
    params.staking.slashBountyBps,
  )) as unknown as PoTStaking;
  await staking.waitForDeployment();
  const ledgerF = await ethers.getContractFactory("PoTLedger", signer);
  const ledger = (await ledgerF.deploy(
    await token.getAddress(),
    await staking.getAddress(),
    params.ledger as LedgerParamsStruct,
  )) as unknown as PoTLedger;
  await ledger.waitForDeployment();
  const ledgerAddress = await ledger.getAddress();
  await (await token.setLedger(ledgerAddress)).wait();
  await (await staking.setLedger(ledgerAddress)).wait();
  const chainId = (await signer.provider!.getNetwork()).chainId;
  return {
    token,
    staking,
    ledger,
    chainId,
    deployBlock,
    addresses: {
      token: await token.getAddress(),
      staking: await staking.getAddress(),
      ledger: ledgerAddress,
      jury: await ledger.jury(),
      verifier: await ledger.verifier(),
    },
  };
}

function jsonSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** Writes deployments/<network>-<chainId>.json and returns its path. */
export function writeDeployment(
  networkName: string,
  d: PoTDeployment,
  params: PoTParams,
  dir = "deployments",
): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${networkName}-${d.chainId}.json`);
  const body = {
    network: networkName,
    chainId: d.chainId.toString(),
    deployBlock: d.deployBlock,
    contracts: d.addresses,
    params: jsonSafe(params),
    deployedAt: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

async function main(): Promise<void> {
  const [deployer, ...others] = await ethers.getSigners();
  const isLocal = network.name === "hardhat" || network.name === "localhost";
  // Local networks: genesis to the first 10 accounts; testnet: to the deployer only (it funds miners).
  const holders = isLocal ? [deployer, ...others.slice(0, 9)] : [deployer];
  const genesis = holders.map((s) => ({ holder: s.address, amount: 1_000_000n * E18 }));
  const params = paramsForNetwork(network.name, genesis);
  const d = await deployPoT(deployer, params);
  const file = writeDeployment(network.name, d, params);
  console.log(`PoT deployed on ${network.name} (chain ${d.chainId}) at block ${d.deployBlock}`);
  for (const [name, address] of Object.entries(d.addresses)) console.log(`  ${name.padEnd(8)} ${address}`);
  console.log(`wrote ${file}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
