/**
 * The shared set-up of the miner integration tests (agent, jury, restart): a temp directory, a miner test
 * network (hardhat node + deployment), the miners a test starts in-process, the job it publishes, and the
 * clean-up after the suite (miners stopped, job store closed, node stopped, directory removed). Call
 * `useMinerNetwork` inside a mocha `describe`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMiner, type MinerHandle, type MinerOptions } from "../../src/miner/agent";
import { createLogger, silentLogger, type Logger } from "../../src/miner/log";
import { startMinerNetwork, type MinerTestNetwork, type PublishedJob } from "./miner-network";

export interface MinerFixture {
  /** The network (set in the suite's `before`). */
  readonly net: MinerTestNetwork;
  /** The miners started so far (stopped after the suite). */
  readonly miners: MinerHandle[];
  /** The job the test published (its store is closed after the suite). */
  job: PublishedJob | undefined;
  /** Info logs with POT_TEST_LOGS set, else silent. */
  readonly log: Logger;
  /** Starts in-process miners for dev accounts `indices` with `options`. */
  startMiners(
    indices: readonly number[],
    options?: Omit<MinerOptions, "config" | "log">,
  ): Promise<MinerHandle[]>;
}

/**
 * Registers the suite's before/after hooks and returns the fixture. `beforeStop` runs first in the clean-up
 * (e.g. to stop a miner child process while the node still answers).
 */
export function useMinerNetwork(
  prefix: string,
  options: { blockMs?: number; beforeStop?: () => Promise<void> } = {},
): MinerFixture {
  let dir = "";
  let net: MinerTestNetwork | undefined;
  const log = process.env.POT_TEST_LOGS ? createLogger("info") : silentLogger;
  const fixture: MinerFixture = {
    get net() {
      if (net === undefined) throw new Error("the miner network starts in the suite's before hook");
      return net;
    },
    miners: [],
    job: undefined,
    log,
    async startMiners(indices, o = {}) {
      const started: MinerHandle[] = [];
      for (const i of indices) {
        const m = await startMiner({ ...o, config: fixture.net.config(i), log: log.child({ i }) });
        fixture.miners.push(m);
        started.push(m);
      }
      return started;
    },
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `pot-${prefix}-`));
    net = await startMinerNetwork(dir, options.blockMs ?? 500);
  });
  after(async () => {
    await options.beforeStop?.();
    await Promise.all(fixture.miners.map((m) => m.stop()));
    await fixture.job?.store.close();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return fixture;
}
