/**
 * Robustness benchmark (issue 7): job completion time with 5 miners of which 0, 1 or 2 are malicious
 * (lazy: a random result and commitment every stage, so every stage is disputed and goes to the jury)
 * or crash (an honest agent stopped for good right after stage 1 wraps), C = 2, K = 1.
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
import { LazyMiner } from "../../test/support/scenario-adversaries";
import { writeMarkdown } from "./write-markdown";
import {
  E18,
  assertNetworkInvariants,
  ledgerEvents,
  nextJobId,
  publishJob,
  stakeAdversaries,
  startHonestMiners,
  startScenarioNet,
  until,
  waitJobFinished,
} from "../../test/support/scenario-harness";

interface Case {
  readonly name: string;
  readonly lazy: number;
  readonly crash: number;
}

const CASES: Case[] = [
  { name: "5 honest", lazy: 0, crash: 0 },
  { name: "4 honest + 1 lazy", lazy: 1, crash: 0 },
  { name: "3 honest + 2 lazy", lazy: 2, crash: 0 },
  { name: "5 honest, 1 crashes after stage 1", lazy: 0, crash: 1 },
  { name: "5 honest, 2 crash after stage 1", lazy: 0, crash: 2 },
];

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
    const honestIdx = Array.from({ length: 5 - c.lazy }, (_, i) => i + 1);
    const lazyIdx = Array.from({ length: c.lazy }, (_, i) => 6 + i);
    // Stake first: a seal needs coin age.
    await stakeAdversaries(sc, lazyIdx, 301n * E18);
    const miners = await startHonestMiners(sc, honestIdx, { stakeWei: 5_000n * E18 });
    const jobId = await nextJobId(sc);
    const all = Array.from({ length: stages }, (_, i) => i + 1);
    const lazies = await Promise.all(
      lazyIdx.map(async (i) => new LazyMiner(await sc.adapter(i), jobId, all).start(301n * E18)),
    );
    const job = await publishJob(sc, 10, { numStages: stages });
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
    for (const l of lazies) await l.stop();
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
(issue 7, "Must show": job completion time with 0, 1 and 2 of 5 miners malicious or crashing, C=2).

Setup (one fresh chain per case, the scenario harness): \`hardhat node\` mining every 500 ms, the real
miner agents in process (embedded IPFS each), the scenarios' small Iris job (MLP 4-8-3, ${stages} stages of 2
SGD steps x 8 samples), C=2, K=1, jury D=3, local ledger parameters (\`closeDelayBlocks\` 6,
\`poaWindowBlocks\` 20). Honest miners stake 5,000 POT; a **lazy** miner (\`LazyMiner\`,
test/support/scenario-adversaries.ts) stakes 301 POT and declares a random result and commitment for
every stage as soon as it opens, so every stage is disputed and goes to the jury; a **crash** is an honest
agent stopped for good right after stage 1 wraps. Job time: createJob receipt -> job finished, wall
clock. Every run ends with the scenario invariants (every wrapped stage re-executes; ledger balance ==
totalOwed).

Machine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}.
Run on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC. 1-minute load average ${load0.toFixed(1)} at the start,
${load1.toFixed(1)} at the end (other work on the machine makes absolute times noisy; the ratios are what
to read).

${table}

Runs that did not finish within the ${capMs / 1000} s cap:

${stuckNotes === "" ? "- none" : stuckNotes}

Reading it: training is negligible here (a stage trains in milliseconds); a stage's time is the chain's
protocol rounds (declare, ${"`closeDelayBlocks`"} blocks to close, header, committee draw after
\`closeDelayBlocks\` more blocks, attest/wrap). A lazy miner makes every stage disputed: a jury is
requested, drawn from a later block hash, trains and votes, then the header reveals the jury's rho: that
is the extra time per stage, whether one or two lazy miners declare (one jury per stage either way). The
lazy miners are slashed once per stage and never paid. A crash costs little while at least C=2 honest
miners remain: the remaining agents build (builder ranks wait \`builderGraceBlocks\` = 2 blocks each) and
sit on committees; a committee round whose drawn member crashed is lost (${"`poaWindowBlocks`"} = 20
blocks = 10 s) before the next round redraws; if a crashed member is drawn in all \`poaMaxRounds\` = 3
rounds (K=1, 2 of 5 equal stakes crashed: 0.4^3 = 6.4% per stage) the header is voided and must be
rebuilt by another declarant (ledger v3 could not rebuild one beyond stage 1 and such runs stuck until
the deadline; ledger v4 can: docs/SECURITY.md, "Gaps found by the scenarios").
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
