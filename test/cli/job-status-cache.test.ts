/**
 * `pot job status N` (a `bin/pot.js` child process, as a user runs it) with the job document in the
 * verified cache under its data directory starts no IPFS node and loads neither Helia/libp2p nor
 * TensorFlow.js; without it (first read, or a tampered cache file) it opens the IPFS node, fetches the
 * document from the employer's node and files the verified bytes in the cache.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { PotContractsAdapter } from "../../src/chain/pot-contracts";
import { PROJECT_ROOT } from "../../src/config/load";
import { createJob } from "../../src/employer/create-job";
import { objectCacheDirOf } from "../../src/employer/storage-config";
import {
  employerContext,
  employerPotEnv,
  smallJobInput,
  startEmployerNet,
  type EmployerNet,
} from "../support/employer-chain";

/** Modules a cached `pot job status` must not load. */
const HEAVY = /node_modules\/(helia|@helia|libp2p|@libp2p|@chainsafe|@tensorflow)\//;

describe("cli: pot job status reads a cached job document without IPFS", function () {
  this.timeout(300_000);
  let net: EmployerNet;
  let jobId: bigint;
  let specCid: string;
  const dir = mkdtempSync(join(tmpdir(), "pot-status-cache-"));
  const dataDir = join(dir, "cli");
  const cacheFile = () => join(objectCacheDirOf({ dataDir }), specCid);
  // Preloaded into the pot process: records the CommonJS modules it loaded (require.cache, at exit) and,
  // through a module.register resolve hook, every ES module it imported (Helia and libp2p are ES modules).
  const preload = join(dir, "record-modules.js");
  const hooks = join(dir, "record-esm.mjs");
  writeFileSync(
    hooks,
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.POT_TEST_MODULES + ".esm", r.url + "\\n");
  return r;
}`,
  );
  writeFileSync(
    preload,
    `require("node:module").register(${JSON.stringify(pathToFileURL(hooks).href)});
process.on("exit", () => require("node:fs").writeFileSync(process.env.POT_TEST_MODULES, JSON.stringify(Object.keys(require.cache))));`,
  );

  /** `pot --json job status <jobId>`: its parsed result and the modules it loaded. */
  const status = (label: string) =>
    new Promise<{ result: { name: string; specCid: string }; modules: string[]; stderr: string }>(
      (resolve, reject) => {
        const record = join(dir, `${label}.json`);
        execFile(
          process.execPath,
          ["-r", preload, join(PROJECT_ROOT, "bin", "pot.js"), "--json", "job", "status", String(jobId)],
          {
            env: { ...employerPotEnv(net, dataDir), POT_CLI_SOURCE: "dist", POT_TEST_MODULES: record },
            cwd: dir,
          },
          (error, stdout, stderr) => {
            if (error) return reject(new Error(`${label}: ${error.message}\n${stderr}`));
            resolve({
              result: JSON.parse(stdout) as { name: string; specCid: string },
              modules: [
                ...(JSON.parse(readFileSync(record, "utf8")) as string[]),
                ...(existsSync(`${record}.esm`) ? readFileSync(`${record}.esm`, "utf8").split("\n") : []),
              ],
              stderr,
            });
          },
        );
      },
    );

  before(async () => {
    net = await startEmployerNet(2);
    // The employer's IPFS node is in the peer registry: a status that misses the cache fetches from it.
    const [address] = await net.store.addresses();
    await new PotContractsAdapter(net.employer.session, net.employer.session.sender).setPeer(address);
    const job = await createJob(employerContext(net), await smallJobInput({ maxStages: 2 }));
    jobId = job.jobId;
    specCid = job.specCid;
  });
  after(async () => {
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("first read: opens IPFS, fetches the document and caches it; then no IPFS node and no Helia", async () => {
    const first = await status("first");
    expect(first.result.name).to.equal("test-mnist");
    expect(first.result.specCid).to.equal(specCid);
    expect(existsSync(join(dataDir, "ipfs")), "the embedded IPFS repo").to.equal(true);
    expect(existsSync(cacheFile()), "the cached document").to.equal(true);
    expect(
      first.modules.some((m) => /node_modules\/helia\//.test(m)),
      "Helia loaded on a miss",
    ).to.equal(true);

    rmSync(join(dataDir, "ipfs"), { recursive: true, force: true });
    const cached = await status("cached");
    expect(cached.result.name).to.equal("test-mnist");
    expect(existsSync(join(dataDir, "ipfs")), "no IPFS repo opened").to.equal(false);
    expect(cached.modules.filter((m) => HEAVY.test(m))).to.deep.equal([]);
    expect(readdirSync(objectCacheDirOf({ dataDir }))).to.deep.equal([specCid]);
  });

  it("never trusts the cache: a tampered document is dropped and fetched again from IPFS", async () => {
    const good = readFileSync(cacheFile());
    const forged = Buffer.from(good.toString("utf8").replace("test-mnist", "forged-job"));
    writeFileSync(cacheFile(), forged);
    const again = await status("tampered");
    expect(again.result.name).to.equal("test-mnist");
    expect(existsSync(join(dataDir, "ipfs")), "IPFS opened for the miss").to.equal(true);
    expect(readFileSync(cacheFile()).equals(good), "the cache holds the verified bytes again").to.equal(true);
  });
});
