/**
 * Pipelining benchmark: does a job's wall time approach its pure training time?
 *
 *   node -r ts-node/register/transpile-only scripts/bench/pipeline.ts [--stages 20] [--steps 200]
 *        [--batch 32] [--hidden 1024] [--depth n] [--out docs/bench/pipeline-run.md] [--keep]
 *        [--block-ms 500] [--confirmations 1]   (the devnet's block interval, the miners' event depth)
 *        [--profile dir]   (V8 CPU profiles of the two miners, written when they stop)
 *
 * 1. Solo: one process runs the job's 20 stages back to back with `runStageWith` (the miner's training
 *    call, rho included) on the same spec and batches: the solo training time. It runs once before and
 *    once after the network run (the ratio uses their mean); if the two differ by more than 10%, other
 *    load changed during the benchmark and the output says the ratio is unreliable.
 * 2. Network: a devnet (hardhat node, `pot deploy`) with TWO miner processes, pinned to CPU 0 and CPU 1 with
 *    `taskset -c` when available, runs the same job with C=2, K=2 (both miners declare every stage, both
 *    sit on every committee). Job wall time = from createJob's block to the last stage's BlockWrapped,
 *    in wall-clock time seen by this process.
 * The model is wide (784-1024-10) so that a stage's training (~2 s) is of the order of a stage's chain
 * round trip while the data stays small (6,400 samples, 20 MB per stage): the same training time with the
 * 784-128-10 MLP would need 200 MB of batches per stage, which IPFS, not pipelining, would then dominate.
 * Goal: job wall time <= 1.25 x solo training time. Also stages finalized per minute and gas per stage
 * (gas of every transaction after createJob's block / stages). The miners' `stage trained` logs give each
 * miner's training time and how many stages it trained speculatively (pipelining).
 */
import { spawn, spawnSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/config/load";
import {
  gasSpent,
  jobSummary,
  mnistJobInput,
  startDevnet,
  startEmployer,
  type Devnet,
} from "../../src/devnet";
import {
  batchesPerStageFor,
  buildSpec,
  estimateJob,
  readJobEvents,
  stageBatches,
  type JobEvents,
} from "../../src/employer";
import { initialState, prepareJob, runStageWith, Trainer } from "../../src/ml";
import { processTreeCpuSeconds } from "./cpu-time";
import { writeMarkdown } from "./write-markdown";

interface Args {
  stages: number;
  steps: number;
  batch: number;
  hidden: number;
  out: string;
  keep: boolean;
  /** Write V8 CPU profiles of the miners (`--cpu-prof`) into this directory. */
  profile?: string;
  /** Miner speculation depth (default: the miner's). */
  depth?: number;
  /** Interval mining period of the node, ms (devnet default 500). */
  blockMs: number;
  /** Confirmations the miners wait for before acting on an event (devnet default 1). */
  confirmations: number;
  /** Child mode: run the solo stages only and print `solo-seconds <s>` (the concurrent baseline). */
  soloOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    stages: 20,
    steps: 200,
    batch: 32,
    hidden: 1024,
    out: join(PROJECT_ROOT, "docs", "bench", "pipeline-run.md"),
    keep: false,
    blockMs: 500,
    confirmations: 1,
    soloOnly: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    if (f === "--keep") a.keep = true;
    else if (f === "--solo-only") a.soloOnly = true;
    else if (f === "--profile") a.profile = argv[++i];
    else if (f === "--depth") a.depth = Number(argv[++i]);
    else if (f === "--block-ms") a.blockMs = Number(argv[++i]);
    else if (f === "--confirmations") a.confirmations = Number(argv[++i]);
    else if (f === "--out") a.out = argv[++i];
    else if (["--stages", "--steps", "--batch", "--hidden"].includes(f)) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${f} needs a positive integer`);
      a[f.slice(2) as "stages" | "steps" | "batch" | "hidden"] = v;
    } else throw new Error(`unknown flag ${f}`);
  }
  return a;
}

/** Median of a list of block counts (0 for an empty list). */
function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Where a stage's chain time goes, in blocks (medians over the job's stages): the stage opens with the
 * previous header; its C-th declaration, its header and its wrap follow; and consecutive headers are
 * the chain's pace, the floor of the time per stage whatever the training speed.
 */
function chainPhases(events: JobEvents): Record<string, number> {
  const open: number[] = [];
  const decl: number[] = [];
  const header: number[] = [];
  const wrap: number[] = [];
  const pace: number[] = [];
  let prevHeader: bigint | undefined;
  for (const s of events.stages) {
    const h = s.headers.find((x) => x.headerHash === s.wrapped?.headerHash);
    if (s.opened === undefined || h === undefined || s.wrapped === undefined) continue;
    const lastDecl = s.declarations
      .map((d) => d.blockNumber)
      .sort((a, b) => (a < b ? -1 : 1))
      .at(events.created.c - 1);
    if (lastDecl === undefined) continue;
    open.push(Number(lastDecl - s.opened.blockNumber));
    decl.push(Number(h.blockNumber - lastDecl));
    header.push(Number(s.wrapped.blockNumber - h.blockNumber));
    if (prevHeader !== undefined) pace.push(Number(h.blockNumber - prevHeader));
    prevHeader = h.blockNumber;
    wrap.push(Number(s.wrapped.blockNumber - s.opened.blockNumber));
  }
  return {
    "stage opened -> C-th declaration": median(open),
    "C-th declaration -> header": median(decl),
    "header -> wrap (PoA)": median(header),
    "stage opened -> wrap": median(wrap),
    "header -> next stage's header (the chain's pace)": median(pace),
  };
}

/**
 * The per-miner ceiling of this machine: the solo run in two child processes at once, pinned to CPU 0
 * and CPU 1 like the miners (no chain, no IPFS). Two trainers at once are slower than one alone (shared
 * memory bandwidth and caches; V8's helper threads lose their spare core), and no pipelining can beat
 * this. Undefined without `taskset`.
 */
async function concurrentSolo(args: Args): Promise<number[] | undefined> {
  if (spawnSync("taskset", ["-V"]).status !== 0) return undefined;
  const flags = ["--stages", "--steps", "--batch", "--hidden"].flatMap((f) => [
    f,
    String(args[f.slice(2) as "stages" | "steps" | "batch" | "hidden"]),
  ]);
  const one = (cpu: number) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(
        "taskset",
        [
          "-c",
          String(cpu),
          process.execPath,
          "-r",
          "ts-node/register/transpile-only",
          __filename,
          "--solo-only",
          ...flags,
        ],
        { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("error", reject);
      child.on("exit", () => {
        const m = /solo-seconds ([\d.]+)/.exec(out);
        if (m === null) reject(new Error(`solo child on CPU ${cpu} printed no time: ${out}`));
        else resolve(Number(m[1]));
      });
    });
  return Promise.all([one(0), one(1)]);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Other work on the machine slows the miners, not the solo run's timing model: record it.
  const loads: number[] = [loadavg()[0]];
  const loadTimer = setInterval(() => loads.push(loadavg()[0]), 10_000);
  loadTimer.unref();
  const say = (s: string) => console.log(s);
  const input = await mnistJobInput({
    stages: args.stages,
    stepsPerStage: args.steps,
    batchSize: args.batch,
    hidden: args.hidden,
    c: 2,
    k: 2,
    optimizer: { name: "sgd", learningRate: 0.05 },
    stageSeconds: 120,
  });

  // 1. Solo training time, same spec and batches as the job.
  const plan = estimateJob(input);
  const spec = await buildSpec(input, plan);
  const batches = stageBatches(input.dataset.train, {
    numStages: plan.numStages,
    stepsPerStage: plan.stepsPerStage,
    batchSize: plan.batchSize,
    batchesPerStage: batchesPerStageFor(plan, input.dataset.train),
    seed: input.seed,
  });
  const job0 = await prepareJob(spec);
  const domain = `0x${"11".repeat(32)}` as const;
  /** Runs the 20 stages alone; wall seconds. Run before and after the network run: other load shows. */
  const solo = async (): Promise<number> => {
    const trainer = new Trainer(job0.spec, job0.model);
    let state = await initialState(spec);
    const t0 = Date.now();
    for (let s = 0; s < plan.numStages; s++)
      state = runStageWith(trainer, state, batches[s], { domain, jobId: 1n, stage: s + 1 }).state;
    trainer.dispose();
    return (Date.now() - t0) / 1000;
  };
  if (args.soloOnly) {
    say(`solo-seconds ${await solo()}`);
    return;
  }
  const soloBefore = await solo();
  say(
    `solo: ${plan.numStages} stages x ${plan.stepsPerStage} steps (batch ${plan.batchSize}, MLP 784-${args.hidden}-10) in ${soloBefore.toFixed(1)} s (${(soloBefore / plan.numStages).toFixed(2)} s/stage)`,
  );

  // 2. The same job on a devnet with two pinned miners.
  let devnet: Devnet | undefined;
  const stop = async () => {
    await devnet?.stop();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(143)));
  try {
    devnet = await startDevnet({
      keep: args.keep,
      blockIntervalMs: args.blockMs,
      onNote: (m) => say(`  ${m}`),
    });
    const miners = await devnet.startMiners(2, {
      cpus: [0, 1],
      speculationDepth: args.depth,
      confirmations: args.confirmations,
      nodeArgs: args.profile === undefined ? undefined : ["--cpu-prof", `--cpu-prof-dir=${args.profile}`],
    });
    const employer = await startEmployer(devnet, devnet.accounts.length - 1);
    const job = await employer.createJob(input);
    const created = await employer.session.publicClient.getTransactionReceipt({ hash: job.txHash });
    const tJob = Date.now();
    // Where the two cores go during the job: CPU seconds of the node, each miner and this process.
    const cpuRoots = [devnet.node, ...miners.map((m) => m.process)].map((p) => ({
      name: p.name,
      pid: p.child.pid ?? -1,
    }));
    const cpuAt = () => {
      const tree = processTreeCpuSeconds(cpuRoots.map((r) => r.pid));
      const self = process.cpuUsage();
      return [...cpuRoots.map((r) => tree?.get(r.pid) ?? Number.NaN), (self.user + self.system) / 1e6];
    };
    const cpu0 = cpuAt();
    say(`job ${job.jobId} created at block ${created.blockNumber}`);
    const h = employer.handle;
    let lastCount = 0;
    await devnet.waitFor(
      "the benchmark job to finish",
      async () => {
        const s = await jobSummary(h, job.jobId);
        if (s.wrappedStages.length !== lastCount) {
          lastCount = s.wrappedStages.length;
          say(
            `  +${((Date.now() - tJob) / 1000).toFixed(1)} s: ${lastCount}/${plan.numStages} stages wrapped`,
          );
        }
        return s.status === "finished";
      },
      Math.max(600_000, soloBefore * 10_000),
    );
    const jobSeconds = (Date.now() - tJob) / 1000;
    const cpu1 = cpuAt();
    const cpuUse = [...cpuRoots.map((r) => r.name), "bench process (employer, its IPFS node)"].map(
      (name, i) => ({ name, seconds: cpu1[i] - cpu0[i] }),
    );
    const gas = await gasSpent(h.client, created.blockNumber + 1n);
    const summary = await jobSummary(h, job.jobId);
    const perMiner = miners.map((m) => {
      const trained = m
        .records()
        .filter((r) => r.msg === "stage trained" && String(r.jobId) === String(job.jobId));
      return {
        name: m.process.name,
        trained: trained.length,
        speculative: trained.filter((r) => r.speculative === true).length,
        trainingSeconds: trained.reduce((a, r) => a + Number(r.ms ?? 0), 0) / 1000,
        dropped: m
          .records()
          .filter((r) => r.msg === "result dropped" || r.msg === "speculative training cancelled").length,
      };
    });
    const phases = chainPhases(await readJobEvents(h, job.jobId));
    await stop(); // free the cores for the second solo run
    const soloAfter = await solo();
    const pair = await concurrentSolo(args);
    const soloSeconds = (soloBefore + soloAfter) / 2;
    // Two solo runs 5+ minutes apart that disagree mean the machine's load changed during the benchmark.
    const soloSpread = Math.abs(soloBefore - soloAfter) / Math.min(soloBefore, soloAfter);
    const ratio = jobSeconds / soloSeconds;
    const perMinute = (summary.wrappedStages.length / jobSeconds) * 60;
    const gasPerStage = gas.gasUsed / BigInt(summary.wrappedStages.length);
    const goalMet = ratio <= 1.25;
    // What pipelining controls: job time over the busier miner's own training time in the network
    // (on a shared 2-core machine the miners train slower than the solo run: the node and IPFS share
    // their cores).
    const minerTraining = Math.max(...perMiner.map((m) => m.trainingSeconds));
    const overMiner = jobSeconds / minerTraining;
    say("");
    say(
      `solo training time     ${soloSeconds.toFixed(1)} s (mean of ${soloBefore.toFixed(1)} s before and ${soloAfter.toFixed(1)} s after the network run${soloSpread > 0.1 ? `; they differ by ${(100 * soloSpread).toFixed(0)}%: other load, the ratio is unreliable` : ""})`,
    );
    say(
      `job wall time          ${jobSeconds.toFixed(1)} s  (ratio ${ratio.toFixed(2)}x; goal <= 1.25x: ${goalMet ? "met" : "MISSED"})`,
    );
    const pairMax = pair === undefined ? undefined : Math.max(...pair);
    if (pairMax !== undefined)
      say(
        `two solo runs at once  ${pair!.map((x) => x.toFixed(1)).join(" s / ")} s (pinned to CPU 0 / 1): job / the slower = ${(jobSeconds / pairMax).toFixed(2)}x`,
      );
    say(
      `over miner training    ${overMiner.toFixed(2)}x  (job time / the busier miner's ${minerTraining.toFixed(1)} s of training in the network)`,
    );
    say(`stages per minute      ${perMinute.toFixed(2)}`);
    say(`gas per stage          ${gasPerStage} (${gas.gasUsed} in ${gas.transactions} txs after createJob)`);
    for (const [what, blocks] of Object.entries(phases)) say(`${what.padEnd(50)} ${blocks} blocks`);
    for (const c of cpuUse)
      say(
        `cpu ${c.name.padEnd(40)} ${c.seconds.toFixed(1)} s (${((100 * c.seconds) / jobSeconds).toFixed(0)}% of a core)`,
      );
    for (const m of perMiner)
      say(
        `${m.name.padEnd(22)} trained ${m.trained} stages (${m.speculative} speculatively), ${m.trainingSeconds.toFixed(1)} s training, ${m.dropped} dropped/cancelled`,
      );

    const cpu = cpus()[0]?.model ?? "unknown CPU";
    const md = `# Pipelining benchmark

Written by \`node -r ts-node/register/transpile-only scripts/bench/pipeline.ts ${process.argv.slice(2).join(" ")}\`
on ${new Date().toISOString().slice(0, 10)}.

Machine: ${cpus().length} cores (${cpu}), Node ${process.version}, ${process.platform}; 1-minute load average
during the run ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} (the benchmark itself runs
about four busy processes: read higher figures as other work). Miners pinned with
\`taskset -c 0\` / \`-c 1\`; the hardhat node and this process (employer, IPFS) float.

Job: MNIST MLP 784-${args.hidden}-10, SGD lr 0.05, ${plan.numStages} stages x ${plan.stepsPerStage} steps x batch ${plan.batchSize}, C=2, K=2, two miner processes
(src/devnet: hardhat node with ${args.blockMs} ms interval mining, miners with ${args.confirmations} confirmation(s) and 200 ms polling).

| figure | value |
| --- | --: |
| solo training time (${plan.numStages} x runStageWith, one process; mean of a run before and one after the network run) | ${soloSeconds.toFixed(1)} s (${(soloSeconds / plan.numStages).toFixed(2)} s/stage; ${soloBefore.toFixed(1)} s before, ${soloAfter.toFixed(1)} s after${soloSpread > 0.1 ? ": they differ by more than 10%, other load: the ratio is unreliable" : ""}) |
| job wall time (createJob block to last wrap) | ${jobSeconds.toFixed(1)} s |
| ratio (goal <= 1.25) | **${ratio.toFixed(2)}x** (${goalMet ? "met" : "missed"}) |
| the solo run twice at once, pinned to CPU 0 and CPU 1 (this machine's per-miner ceiling) | ${pair === undefined ? "n/a (no taskset)" : `${pair.map((x) => x.toFixed(1)).join(" s / ")} s; job / the slower: ${(jobSeconds / pairMax!).toFixed(2)}x`} |
| job wall time / the busier miner's training time in the network | ${overMiner.toFixed(2)}x (${minerTraining.toFixed(1)} s) |
| stages finalized per minute | ${perMinute.toFixed(2)} |
| gas per stage (all txs after createJob / stages) | ${gasPerStage} |

Chain phases of a stage (median blocks; ${args.blockMs} ms per block):

| phase | blocks |
| --- | --: |
${Object.entries(phases)
  .map(([what, blocks]) => `| ${what} | ${blocks} |`)
  .join("\n")}

CPU time during the job (user + system, from /proc; each process with its children; ${cpus().length} cores x ${jobSeconds.toFixed(1)} s = ${(cpus().length * jobSeconds).toFixed(0)} core-seconds available):

| process | CPU seconds | share of one core |
| --- | --: | --: |
${cpuUse.map((c) => `| ${c.name} | ${c.seconds.toFixed(1)} | ${((100 * c.seconds) / jobSeconds).toFixed(0)}% |`).join("\n")}

| miner | stages trained | speculatively | training time | dropped / cancelled |
| --- | --: | --: | --: | --: |
${perMiner.map((m) => `| ${m.name} | ${m.trained} | ${m.speculative} | ${m.trainingSeconds.toFixed(1)} s | ${m.dropped} |`).join("\n")}
`;
    await writeMarkdown(args.out, md);
    say(`wrote ${args.out}`);
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(`pipeline bench failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
