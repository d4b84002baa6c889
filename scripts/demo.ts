/**
 * `npm run demo`: the whole Proof of Training network on this machine, from nothing.
 *
 *   node -r ts-node/register/transpile-only scripts/demo.ts [--miners N] [--stages N] [--fine-tune-stages N]
 *     [--keep] [--json]
 *
 * Starts a hardhat node, deploys PoT (`pot deploy`), starts N miners as separate processes (`pot miner
 * start`, each with its own embedded IPFS node), opens an MNIST MLP job (C=2, K=2) from an in-process
 * employer that serves its data, shows each stage as it is wrapped (builder, mean training loss, test
 * loss/accuracy, elapsed), fetches the final model (`pot job fetch`), measures its test accuracy on the
 * held-out MNIST split with plain TensorFlow.js, re-executes every stage (`pot verify --all`), then runs a
 * short fine-tuning job from that model (`fromJob`, 2 stages on other batches), shows its test accuracy
 * beside the first, checks its certificate.json (docs/certificate.md) and says where both are, prints a
 * summary (stages, wrapped blocks, gas of every transaction, accuracy, wall time) and stops every process
 * (also on Ctrl-C and on failure). docs/devnet.md explains the processes and where the logs go.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { formatEther, type Address } from "viem";
import {
  gasSpent,
  jobSummary,
  mnistJobInput,
  startDevnet,
  startEmployer,
  type Devnet,
  type DevnetMiner,
} from "../src/devnet";
import { fetchModel, fetchState, loadJobRecord, registerFileScheme, stateRef } from "../src/employer";
import { certifyModel, checkCertificate, checkCertificateOnChain } from "../src/verify";
import { evaluate, initEngine, seededPermutation, type Batch } from "../src/ml";

interface Args {
  miners: number;
  stages: number;
  fineTuneStages: number;
  keep: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { miners: 3, stages: 10, fineTuneStages: 2, keep: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const int = (min: number) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < min) throw new Error(`${f} needs an integer >= ${min}`);
      return v;
    };
    if (f === "--miners") a.miners = int(2);
    else if (f === "--stages") a.stages = int(1);
    else if (f === "--fine-tune-stages") a.fineTuneStages = int(1);
    else if (f === "--keep") a.keep = true;
    else if (f === "--json") a.json = true;
    else if (f === "--help" || f === "-h") {
      console.log(
        "usage: npm run demo -- [--miners N (3)] [--stages N (10)] [--fine-tune-stages N (2)] [--keep] [--json]",
      );
      process.exit(0);
    } else throw new Error(`unknown flag ${f} (see --help)`);
  }
  return a;
}

/** The same samples in another (seeded) order: a fine-tuning job on other batches of the training split. */
function reordered(b: Batch, seed: number): Batch {
  const order = seededPermutation(b.count, seed);
  const width = b.featureShape.reduce((x, y) => x * y, 1);
  const lw = b.labelShape.reduce((x, y) => x * y, 1);
  const features = new Float32Array(b.features.length);
  const labels = new (b.labels.constructor as Int32ArrayConstructor)(b.labels.length);
  order.forEach((from, to) => {
    features.set(b.features.subarray(from * width, (from + 1) * width), to * width);
    labels.set(b.labels.subarray(from * lw, (from + 1) * lw), to * lw);
  });
  return { ...b, features, labels };
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  const say = (line: string) => {
    if (!args.json) console.log(`[${secs().padStart(6)} s] ${line}`);
  };
  let devnet: Devnet | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (devnet !== undefined) {
      say(args.keep ? `stopping processes; data and logs kept in ${devnet.dir}` : "stopping processes...");
      await devnet.stop();
    }
    process.exit(code);
  };
  process.once("SIGINT", () => void shutdown(130));
  process.once("SIGTERM", () => void shutdown(143));

  try {
    devnet = await startDevnet({ keep: args.keep, onNote: say });
    say(`devnet directory ${devnet.dir} (logs in ${devnet.logsDir})`);
    const miners = await devnet.startMiners(args.miners);
    const minerName = new Map<string, string>(
      miners.map((m: DevnetMiner) => [m.account.address.toLowerCase(), m.process.name]),
    );
    const employerIndex = devnet.accounts.length - 1;
    const employer = await startEmployer(devnet, employerIndex);
    say(`employer ${employer.address} serves from IPFS ${employer.multiaddr} (announced on-chain)`);

    const input = await mnistJobInput({ stages: args.stages, c: 2, k: 2 });
    const test = input.dataset.test as Batch;
    const job = await employer.createJob(input);
    say(
      `job ${job.jobId} opened: MNIST MLP 784-64-10, ${job.plan.numStages} stages x ${job.plan.stepsPerStage} steps x ` +
        `batch ${job.plan.batchSize}, C=2, K=2, fee ${formatEther(input.fee)} ETH (tx ${job.txHash})`,
    );

    // Stage by stage, as the chain wraps them.
    const h = employer.handle;
    const meanLossOf = (jobId: bigint, stage: number): number | undefined => {
      for (const m of miners)
        for (const r of m.records())
          if (r.msg === "stage trained" && String(r.jobId) === String(jobId) && Number(r.stage) === stage)
            return Number(r.meanLoss);
      return undefined;
    };
    /** Prints each stage of `jobId` as the chain wraps it, until the job finished; its rows and seconds. */
    const followJob = async (jobId: bigint, numStages: number) => {
      const tJob = Date.now();
      const spec = (await loadJobRecord(h, employer.store, jobId)).document.spec;
      const shown = new Set<number>();
      const rows: Record<string, unknown>[] = [];
      await devnet!.waitFor(
        `job ${jobId} to finish`,
        async () => {
          const record = await loadJobRecord(h, employer.store, jobId);
          for (const s of record.events.stages) {
            if (s.wrapped === undefined || shown.has(s.stage)) continue;
            shown.add(s.stage);
            const header = s.headers.find((x) => x.headerHash === s.wrapped!.headerHash);
            const builder = header?.builder ?? ("0x" as Address);
            const bytes = await fetchState(employer.store, stateRef(record, s.stage)!);
            const e = await evaluate(spec, bytes, test);
            const meanLoss = meanLossOf(jobId, s.stage);
            const row = {
              stage: s.stage,
              block: s.wrapped.index,
              builder,
              builderName: minerName.get(builder.toLowerCase()) ?? "?",
              meanLoss,
              testLoss: e.loss,
              testAccuracy: e.accuracy,
              elapsedSeconds: (Date.now() - tJob) / 1000,
            };
            rows.push(row);
            say(
              `stage ${String(s.stage).padStart(2)}/${numStages} wrapped (block #${s.wrapped.index}) ` +
                `builder ${row.builderName} ${builder.slice(0, 10)}..  mean loss ${meanLoss?.toFixed(4) ?? "?"}  ` +
                `test loss ${e.loss.toFixed(4)}  test acc ${(e.accuracy * 100).toFixed(1)}%  +${row.elapsedSeconds.toFixed(1)} s`,
            );
          }
          return record.events.finished !== undefined && shown.size === numStages;
        },
        Math.max(300_000, numStages * 60_000),
      );
      return { rows, seconds: (Date.now() - tJob) / 1000 };
    };
    const followed = await followJob(job.jobId, job.plan.numStages);
    const stageRows = followed.rows;
    const jobSeconds = followed.seconds;
    say(`job ${job.jobId} finished: ${job.plan.numStages} stages in ${jobSeconds.toFixed(1)} s`);

    /** `pot job fetch` as any employer runs it: model.json, weights.bin and certificate.json in `dir`. */
    const fetchModelFiles = async (jobId: bigint, dir: string) => {
      const fetched = (await devnet!.pot(["job", "fetch", String(jobId), "--out", dir], {
        name: `pot-job-fetch-${jobId}`,
        dataDir: join(devnet!.dir, "fetcher"),
      })) as { modelJson: string; stage: number; stateHash: string; certificate: string };
      say(
        `fetched S_${fetched.stage} of job ${jobId} (H(S) ${fetched.stateHash.slice(0, 12)}.. checked) to ${fetched.modelJson}; ` +
          `certificate ${fetched.certificate}`,
      );
      return fetched;
    };
    /** Test accuracy of fetched model files, loaded with plain TensorFlow.js. */
    const accuracyOf = async (modelJson: string) => {
      const model = await tf.loadLayersModel(`file://${modelJson}`);
      const fs = test.featureShape.reduce((a, b) => a * b, 1);
      const predicted = tf.tidy(() =>
        (model.predict(tf.tensor(test.features, [test.count, fs])) as tf.Tensor).argMax(1).dataSync(),
      );
      let correct = 0;
      for (let i = 0; i < test.count; i++) if (predicted[i] === test.labels[i]) correct++;
      model.dispose();
      return correct / test.count;
    };

    // Fetch the final model as any employer would, and test it with plain TensorFlow.js.
    await initEngine();
    registerFileScheme();
    // The models and their certificates outlive the demo's devnet: ./demo-output, replaced on every run.
    const outputDir = join(process.cwd(), "demo-output");
    rmSync(outputDir, { recursive: true, force: true });
    const fetched = await fetchModelFiles(job.jobId, join(outputDir, "model"));
    const accuracy = await accuracyOf(fetched.modelJson);
    say(
      `test accuracy of the fetched model on ${test.count} held-out MNIST digits: ${(accuracy * 100).toFixed(2)}%`,
    );

    // Audit: every stage re-executed bit for bit by a separate verifier process.
    say("pot verify --all: re-executing every stage from the chain and IPFS...");
    const tVerify = Date.now();
    const report = (await devnet.pot(["verify", String(job.jobId), "--all"], {
      name: "pot-verify",
      dataDir: join(devnet.dir, "verifier"),
      timeoutMs: 600_000,
    })) as { ok: boolean; reexecuted: number[]; checks: unknown[]; failures: unknown[] };
    say(
      `verify: ${report.ok ? "OK" : "FAILED"}, ${report.checks.length} checks, stages re-executed ${report.reexecuted.join(",")} ` +
        `(${((Date.now() - tVerify) / 1000).toFixed(1)} s)`,
    );

    // Fine-tuning: a short job whose S_0 is job 1's final model, on the same training digits in another
    // order (other batches; the held-out digits stay unseen), then its certificate checked.
    // the parent's optimizer (its momentum is part of the state), at a fifth of the learning rate
    const fineInput = await mnistJobInput({
      stages: args.fineTuneStages,
      c: 2,
      k: 2,
      optimizer: { name: "momentum", learningRate: 0.01, momentum: 0.9 },
    });
    const fine = await employer.createJob({
      ...fineInput,
      name: "devnet-mnist-finetune",
      dataset: { ...input.dataset, train: reordered(input.dataset.train as Batch, 11) },
      fromJob: job.jobId,
    });
    say(
      `job ${fine.jobId} opened: fine-tunes job ${job.jobId}'s final model (--from-job), ${fine.plan.numStages} stages on other batches, learning rate 0.01`,
    );
    const fineFollowed = await followJob(fine.jobId, fine.plan.numStages);
    // In this process (the employer's IPFS node and chain connection), as `pot job fetch` and
    // `pot verify --certificate` do it: a new process would add ~10 s of start-up on 2 busy cores.
    const fineFetched = await fetchModel(h, employer.store, fine.jobId, join(outputDir, "model-finetuned"));
    const fineCertificate = await certifyModel(h, employer.store, fineFetched);
    const fineAccuracy = await accuracyOf(fineFetched.modelJson);
    say(
      `test accuracy: ${(accuracy * 100).toFixed(2)}% after job ${job.jobId}, ${(fineAccuracy * 100).toFixed(2)}% after fine-tuning (job ${fine.jobId})`,
    );
    const certificate = await checkCertificate(fineFetched.dir);
    await checkCertificateOnChain(h, fineCertificate.certificate);
    say(
      `certificate of job ${fine.jobId} (= pot verify --certificate ${fineFetched.dir}): OK, ${certificate.stages} stage(s) ` +
        `chained from job ${certificate.parentJobId}'s final state, ${certificate.attestations} committee attestations ` +
        `recovered, the weights hash to the last H(S), and the chain agrees`,
    );

    const summary = await jobSummary(h, job.jobId);
    const gas = await gasSpent(h.client);
    // Gas of the job alone: every transaction after createJob's block (miners' stake and peer set-up excluded).
    const created = await h.client.getTransactionReceipt({ hash: job.txHash });
    // (up to the block before the fine-tuning job's createJob: its transactions are not the first job's)
    const fineCreated = await h.client.getTransactionReceipt({ hash: fine.txHash });
    const jobGas = await gasSpent(h.client, created.blockNumber + 1n, fineCreated.blockNumber - 1n);
    const result = {
      jobId: job.jobId,
      miners: args.miners,
      stages: summary.wrappedStages.length,
      wrappedBlocks: summary.wrappedBlocks,
      jobSeconds,
      testAccuracy: accuracy,
      verified: report.ok,
      fineTune: {
        jobId: fine.jobId,
        stages: fine.plan.numStages,
        jobSeconds: fineFollowed.seconds,
        testAccuracy: fineAccuracy,
        certificate: fineCertificate.path,
        certificateVerified: true,
      },
      reexecutedStages: report.reexecuted.length,
      gas: { transactions: gas.transactions, gasUsed: gas.gasUsed, blocks: Number(gas.toBlock) + 1 },
      jobGas: { transactions: jobGas.transactions, gasUsed: jobGas.gasUsed },
      gasPerStage: jobGas.gasUsed / BigInt(Math.max(1, summary.wrappedStages.length)),
      rewardsCredited: summary.rewardTotal,
      escrowBalanced: summary.escrowBalance === summary.totalOwed,
      wallSeconds: (Date.now() - t0) / 1000,
      dir: args.keep ? devnet.dir : undefined,
      stagesDetail: stageRows,
    };
    if (args.json) console.log(json(result));
    else {
      console.log("");
      console.log("Summary");
      console.log(
        `  stages wrapped     ${result.stages}/${job.plan.numStages} (blocks #${summary.wrappedBlocks.join(", #")})`,
      );
      console.log(`  job wall time      ${jobSeconds.toFixed(1)} s (${args.miners} miner processes)`);
      console.log(
        `  gas, all txs       ${gas.gasUsed} in ${gas.transactions} transactions over ${result.gas.blocks} blocks (deployment included)`,
      );
      console.log(
        `  gas, job stages    ${jobGas.gasUsed} in ${jobGas.transactions} transactions after createJob (~${result.gasPerStage} per stage)`,
      );
      console.log(
        `  rewards credited   ${formatEther(summary.rewardTotal)} ETH; escrow ${result.escrowBalanced ? "balances" : "DOES NOT balance"} (escrow balance ${formatEther(summary.escrowBalance)} ETH == totalOwed ${formatEther(summary.totalOwed)} ETH)`,
      );
      console.log(
        `  test accuracy      ${(accuracy * 100).toFixed(2)}% (fetched model, ${test.count} held-out digits)`,
      );
      console.log(
        `  verification       ${report.ok ? "passed" : "FAILED"}, ${report.reexecuted.length}/${result.stages} stages re-executed`,
      );
      console.log(
        `  fine-tuning        job ${fine.jobId} from job ${job.jobId}: ${fine.plan.numStages} stages in ${fineFollowed.seconds.toFixed(1)} s, ` +
          `test accuracy ${(accuracy * 100).toFixed(2)}% -> ${(fineAccuracy * 100).toFixed(2)}%`,
      );
      console.log(`  certificates       ${fetched.certificate}`);
      console.log(`                     ${fineCertificate.path} (pot verify --certificate: passed)`);
      console.log(`  total wall time    ${result.wallSeconds.toFixed(1)} s`);
    }
    const ok = report.ok && result.escrowBalanced && result.stages === job.plan.numStages;
    await shutdown(ok ? 0 : 1);
    return ok ? 0 : 1;
  } catch (error) {
    console.error(`demo failed: ${(error as Error).message}`);
    if (devnet !== undefined && !(error as Error).message.includes("---")) console.error(devnet.tails(20));
    await shutdown(1);
    return 1;
  }
}

void main();
