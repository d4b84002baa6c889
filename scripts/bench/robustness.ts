/**
 * Robustness benchmark (issues 7 and 12): job completion time with 5 miners of which 0, 1 or 2 are
 * malicious or crash, C = 2, K = 1. Adversaries (test/support/scenario-adversaries.ts): lazy (a random
 * result and commitment every stage: every stage is disputed and goes to the jury); lazy copy (the public
 * result with a commitment to a made-up rho); Sybil close (two identities copy the first pending
 * declaration of every stage from the mempool; the job has an 8 s minimum declaration window); jury
 * staller (commits, never reveals; a lazy miner makes every stage go to a jury); self-slasher (copies a
 * declaration and reports itself first); stake splitter (one stake split over two identities declaring one
 * wrong result). A crash is an honest agent stopped for good right after stage 1 wraps.
 *
 *   node -r ts-node/register/transpile-only scripts/bench/robustness.ts [--stages 3] [--runs 1]
 *        [--cap 150] [--out docs/bench/robustness.md]
 *
 * A run whose job has not finished after `--cap` seconds is recorded as stuck, with what wrapped and what
 * was voided, and is not counted in the median.
 *
 * Each case runs on a fresh chain (the scenario harness, test/support/scenario-harness.ts: a `hardhat
 * node` mining every 500 ms, the real miner agents in process, each with its embedded IPFS node, the
 * small Iris job of the scenarios: MLP 4-8-3, 2 SGD steps of 8 samples per stage). Honest miners stake
 * 5,000 POT each; a lazy miner stakes 301 POT (the ledger slashes 100 POT per provably wrong declaration,
 * so it stays staked for every stage of a 3-stage job and its PoS weight is ~2-4% of the jury's draw).
 * Job time = from the createJob receipt to the job's status turning `finished`, wall clock, seen by this
 * process. After each run the scenario invariants are checked (every wrapped stage re-executes bit for
 * bit, ledger balance == totalOwed).
 */
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/config/load";
import {
  ColludingGroup,
  ForwardOnlyMiner,
  JuryStaller,
  LazyMiner,
  SelfSlasher,
  SybilCloser,
  type Adversary,
} from "../../test/support/scenario-adversaries";
import { writeMarkdown } from "./write-markdown";
import {
  E18,
  assertNetworkInvariants,
  ledgerEvents,
  nextJobId,
  publishJob,
  ReferenceTrainer,
  stakeAdversaries,
  startHonestMiners,
  startScenarioNet,
  until,
  waitJobFinished,
  type ScenarioNet,
} from "../../test/support/scenario-harness";

type Kind = "lazy" | "lazy-copy" | "sybil-close" | "jury-staller" | "self-slasher" | "stake-splitter";

interface Case {
  readonly name: string;
  /** Adversary accounts (5 - honest). */
  readonly bad: number;
  readonly kind?: Kind;
  readonly crash: number;
}

const CASES: Case[] = [
  { name: "5 honest", bad: 0, crash: 0 },
  { name: "4 honest + 1 lazy", bad: 1, kind: "lazy", crash: 0 },
  { name: "3 honest + 2 lazy", bad: 2, kind: "lazy", crash: 0 },
  { name: "5 honest, 1 crashes after stage 1", bad: 0, crash: 1 },
  { name: "5 honest, 2 crash after stage 1", bad: 0, crash: 2 },
  { name: "4 honest + 1 lazy copy", bad: 1, kind: "lazy-copy", crash: 0 },
  { name: "3 honest + Sybil close (2 identities)", bad: 2, kind: "sybil-close", crash: 0 },
  { name: "3 honest + lazy + jury staller", bad: 2, kind: "jury-staller", crash: 0 },
  { name: "4 honest + 1 self-slasher", bad: 1, kind: "self-slasher", crash: 0 },
  { name: "3 honest + stake splitter (2 identities)", bad: 2, kind: "stake-splitter", crash: 0 },
];

/** Starts the case's adversaries on dev accounts `idx` for job `jobId` (stages `all`). */
async function startAdversaries(
  sc: ScenarioNet,
  c: Case,
  idx: readonly number[],
  jobId: bigint,
  all: readonly number[],
  ref: () => Promise<ReferenceTrainer>,
): Promise<{ stop(): Promise<void> }> {
  const stake = 301n * E18;
  const started: { stop(): Promise<void> }[] = [];
  const one = async (a: Adversary, wei = stake) => started.push(await a.start(wei));
  switch (c.kind) {
    case undefined:
      break;
    case "lazy":
      for (const i of idx) await one(new LazyMiner(await sc.adapter(i), jobId, all));
      break;
    case "lazy-copy":
      for (const i of idx) await one(new ForwardOnlyMiner(await sc.adapter(i), jobId, all, false));
      break;
    case "sybil-close":
      await one(
        new SybilCloser(
          await sc.adapter(idx[0]),
          await Promise.all(idx.map((i) => sc.session(i))),
          jobId,
          all,
        ),
        stake,
      );
      break;
    case "jury-staller":
      await one(new LazyMiner(await sc.adapter(idx[0]), jobId, all));
      await one(new JuryStaller(await sc.adapter(idx[1]), jobId, ref), 5_000n * E18);
      break;
    case "self-slasher":
      for (const i of idx) await one(new SelfSlasher(await sc.adapter(i), jobId, all));
      break;
    case "stake-splitter": {
      const group = new ColludingGroup(await Promise.all(idx.map((i) => sc.adapter(i))), jobId, all);
      await group.start(stake / BigInt(idx.length));
      started.push(group);
      break;
    }
  }
  return { stop: async () => void (await Promise.all(started.map((a) => a.stop()))) };
}

interface Row {
  readonly name: string;
  /** Job time; undefined when the job did not finish within the cap (`stuck` says why). */
  readonly ms: number | undefined;
  readonly stuck?: string;
  readonly juries: number;
  readonly voided: number;
  readonly slashed: number;
  readonly msPerStage: number;
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

async function runCase(c: Case, stages: number, capMs: number): Promise<Row> {
  const sc = await startScenarioNet(500);
  try {
    const honestIdx = Array.from({ length: 5 - c.bad }, (_, i) => i + 1);
    const badIdx = Array.from({ length: c.bad }, (_, i) => 6 + i);
    // Stake first: drawable from the next epoch.
    await stakeAdversaries(sc, badIdx, 301n * E18);
    const miners = await startHonestMiners(sc, honestIdx, { stakeWei: 5_000n * E18 });
    const jobId = await nextJobId(sc);
    const all = Array.from({ length: stages }, (_, i) => i + 1);
    // The jury staller needs the honest results of a job that does not exist yet: it asks on its first jury.
    const published: { job?: Awaited<ReturnType<typeof publishJob>> } = {};
    let ref: Promise<ReferenceTrainer> | undefined;
    const adversaries = await startAdversaries(
      sc,
      c,
      badIdx,
      jobId,
      all,
      () => (ref ??= ReferenceTrainer.of(sc, published.job!)),
    );
    const sybil = c.kind === "sybil-close";
    // The Sybil closer reads the mempool: automine off for its whole job.
    if (sybil) await sc.net.rpc("evm_setAutomine", [false]);
    const job = await publishJob(sc, 10, { numStages: stages, minDeclareSeconds: sybil ? 8 : undefined });
    published.job = job;
    const t0 = Date.now();
    if (c.crash > 0) {
      await until(
        "stage 1 wrapped",
        async () =>
          (await ledgerEvents(sc, job.jobId)).some((e) => e.kind === "BlockWrapped" && e.stage === 1),
        120_000,
        100,
      );
      for (const i of honestIdx.slice(0, c.crash)) {
        await sc.honest.get(i)!.stop();
        sc.honest.delete(i);
      }
    }
    const finished = await waitJobFinished(sc, job.jobId, capMs).then(
      () => true,
      () => false,
    );
    const ms = finished ? Date.now() - t0 : undefined;
    if (sybil) await sc.net.rpc("evm_setAutomine", [true]);
    await adversaries.stop();
    const events = await ledgerEvents(sc, job.jobId);
    const slashed = events.filter((e) => e.kind === "Slashed").length;
    let stuck: string | undefined;
    if (!finished) {
      const wrapped = events.filter((e) => e.kind === "BlockWrapped").map((e) => e.stage);
      const voided = events.filter((e) => e.kind === "HeaderVoided").map((e) => e.stage);
      stuck = `not finished after ${capMs / 1000} s: stages wrapped [${wrapped.join(", ")}], headers voided on stages [${voided.join(", ")}]`;
    }
    await assertNetworkInvariants(sc, job, {
      honest: miners.filter((m) => [...sc.honest.values()].includes(m)).map((m) => m.address),
      finished,
    });
    return {
      name: c.name,
      ms,
      stuck,
      juries: events.filter((e) => e.kind === "JuryDecided").length,
      voided: events.filter((e) => e.kind === "HeaderVoided").length,
      slashed,
      msPerStage: (ms ?? NaN) / stages,
    };
  } finally {
    await sc.stop();
  }
}

async function main(): Promise<void> {
  const stages = Number(arg("stages", "3"));
  const runs = Number(arg("runs", "1"));
  const capMs = Number(arg("cap", "150")) * 1000;
  const out = arg("out", join(PROJECT_ROOT, "docs/bench/robustness.md"));
  const load0 = loadavg()[0];
  const rows: Row[][] = [];
  for (const c of CASES) {
    const r: Row[] = [];
    for (let i = 0; i < runs; i++) {
      const row = await runCase(c, stages, capMs);
      console.log(
        row.ms === undefined
          ? `${c.name}: STUCK (${row.stuck}), juries ${row.juries}, voided ${row.voided}, slashed ${row.slashed}`
          : `${c.name}: ${(row.ms / 1000).toFixed(1)} s (${(row.msPerStage / 1000).toFixed(1)} s/stage), juries ${row.juries}, voided ${row.voided}, slashed ${row.slashed}`,
      );
      r.push(row);
    }
    rows.push(r);
  }
  const load1 = loadavg()[0];
  const done = (r: Row[]) => r.flatMap((x) => (x.ms === undefined ? [] : [x.ms])).sort((a, b) => a - b);
  const median = (ms: number[]) => (ms.length === 0 ? NaN : ms[Math.floor(ms.length / 2)]);
  const base = median(done(rows[0]));
  const fmt = (r: Row[]) => {
    const med = median(done(r));
    return {
      s: Number.isNaN(med) ? "-" : `${(med / 1000).toFixed(1)} s`,
      perStage: Number.isNaN(med) ? "-" : `${(med / stages / 1000).toFixed(1)} s`,
      x: Number.isNaN(med) ? "-" : `${(med / base).toFixed(2)}x`,
      all: r.map((x) => (x.ms === undefined ? "stuck" : (x.ms / 1000).toFixed(1))).join(" / "),
      finished: `${done(r).length}/${r.length}`,
      juries: r.map((x) => x.juries).join(" / "),
      slashed: r.map((x) => x.slashed).join(" / "),
      voided: r.map((x) => x.voided).join(" / "),
    };
  };
  const table = [
    "| miners (C=2, K=1) | finished | job time (median) | per stage | vs 5 honest | runs (s) | juries | slashed by job end | headers voided |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...CASES.map((c, i) => {
      const f = fmt(rows[i]);
      return `| ${c.name} | ${f.finished} | ${f.s} | ${f.perStage} | ${f.x} | ${f.all} | ${f.juries} | ${f.slashed} | ${f.voided} |`;
    }),
  ].join("\n");
  const stuckNotes = rows
    .flat()
    .filter((r) => r.stuck !== undefined)
    .map((r) => `- ${r.name}: ${r.stuck}`)
    .join("\n");
  console.log(`\n${table}\n`);
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const md = `# Robustness benchmark

Script: \`node -r ts-node/register/transpile-only scripts/bench/robustness.ts --stages ${stages} --runs ${runs} --cap ${capMs / 1000}\`
(issues 7 and 12: job completion time with 0, 1 and 2 of 5 miners malicious or crashing, C=2).

Setup (one fresh chain per case, the scenario harness): \`hardhat node\` mining every 500 ms, the real
miner agents in process (embedded IPFS each), the scenarios' small Iris job (MLP 4-8-3, ${stages} stages of 2
SGD steps x 8 samples), C=2, K=1, jury of 3 seats, local parameters (deploy/params.ts, with
\`closeDelayBlocks\` 6). Honest miners stake 5,000 POT; adversaries 301 POT (test/support/scenario-adversaries.ts):
a **lazy** miner declares a random result and commitment for every stage as soon as it opens (every stage
is disputed and goes to the jury); a **lazy copy** declares the first honest result with a commitment to a
made-up rho (it never opens: listed faulty, slashed); a **Sybil close** is two identities copying the first
pending declaration of every stage from the mempool (automine off; the job has an 8 s minimum declaration
window, so the honest miners still declare); a **jury staller** (5,000 POT, so it is often seated) commits
and never reveals, beside a lazy miner that sends every stage to the jury; a **self-slasher** copies a
declaration and reports itself as soon as the stage wraps; a **stake splitter** is one 301 POT stake split
over two identities declaring one wrong result. A **crash** is an honest agent stopped for good right after
stage 1 wraps. Job time: createJob receipt -> job finished, wall clock. Every run ends with the scenario
invariants (every wrapped stage re-executes; escrow balance == totalOwed).

Machine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}.
Run on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. 1-minute load average ${load0.toFixed(1)} at the start,
${load1.toFixed(1)} at the end (other work on the machine makes absolute times noisy; the ratios are what
to read).

${table}

Runs that did not finish within the ${capMs / 1000} s cap:

${stuckNotes === "" ? "- none" : stuckNotes}

Reading it: training is negligible here (a stage trains in milliseconds); a stage's time is the chain's
protocol rounds (declare, \`closeDelayBlocks\` blocks to close, header, committee draw after
\`closeDelayBlocks\` more blocks, attest/wrap). A disputed stage adds a jury: requested, drawn from a later
block hash, a commit window and a reveal window of 10 blocks each, then any staker builds with the decided
pair. A copy that does not open costs the honest miners nothing (listed faulty, it neither counts as an
opening nor takes a share) unless it made the stage close with fewer than C openings: then the stage waits
\`headerTimeoutSeconds\` and goes to the jury. A crash costs little while at least C=2 honest miners remain;
a committee round whose drawn seat crashed is lost (\`poaWindowBlocks\` = 20 blocks = 10 s) before the next
round redraws, and a header whose every round drew a crashed seat is voided and rebuilt.
`;
  await writeMarkdown(out, md);
  console.log(`wrote ${out}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
