/**
 * `sudo npm run netns` / `node scripts/netns/run.js`: the PoT job on a multi-host network of Linux network
 * namespaces (scripts/netns/network-job.ts), by default with the link-cut fault. Needs root and iproute2.
 *
 *   --no-fault         no link cut
 *   --cut-seconds <n>  seconds the last miner's link stays down (default 10)
 *   --stages <n>       stages of the Iris job (default 2)
 *   --keep             keep the work folder with every process's log
 */
import { runNetworkJob } from "./network-job";
import { netnsUnavailableReason, removeLeftovers } from "./topology";

function parseArgs(argv: readonly string[]): { cutSeconds: number; stages: number; keep: boolean } {
  const out = { cutSeconds: 10, stages: 2, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const count = (name: string) => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 100)
        throw new Error(`${name} takes a whole number from 1 to 100, got "${v ?? ""}"`);
      return Number(v);
    };
    if (a === "--no-fault") out.cutSeconds = 0;
    else if (a === "--cut-seconds") out.cutSeconds = count(a);
    else if (a === "--stages") out.stages = count(a);
    else if (a === "--keep") out.keep = true;
    else throw new Error(`unknown option "${a}" (--no-fault, --cut-seconds <n>, --stages <n>, --keep)`);
  }
  return out;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`netns: ${(error as Error).message}`);
    return 2;
  }
  const reason = netnsUnavailableReason();
  if (reason !== undefined) {
    console.error(`netns: ${reason}; run as root with iproute2 installed (sudo npm run netns)`);
    return 2;
  }
  const note = (line: string) => console.log(`[netns ${new Date().toISOString().slice(11, 19)}] ${line}`);
  const run = runNetworkJob({
    cutSeconds: args.cutSeconds,
    stages: args.stages,
    keep: args.keep,
    onNote: note,
  });
  // Ctrl-C / kill: kill every process in the namespaces and delete them at once; the run then fails and
  // its own tear-down finishes (the work folder).
  const interrupted = new Promise<never>((_, reject) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const)
      process.once(signal, () => {
        removeLeftovers();
        reject(new Error(`interrupted (${signal}); namespaces removed`));
      });
  });
  try {
    const result = await Promise.race([run, interrupted]);
    const connections = Object.entries(result.connections).flatMap(([host, list]) =>
      list.map((c) => `${host}: ${c}`),
    );
    const offSubnet = connections.filter((c) => !/: 10\.77\.0\.\d+:\d+ -> 10\.77\.0\.\d+:\d+$/.test(c));
    if (offSubnet.length > 0) throw new Error(`connections off 10.77.0.0/24:\n  ${offSubnet.join("\n  ")}`);
    note(`${connections.length} TCP connections seen, every one between 10.77.0.x addresses`);
    note(
      `job ${result.jobId} finished, fetched and verified across ${Object.keys(result.routes).length} namespaces in ${result.seconds} s` +
        (result.linkCut !== undefined
          ? `; ${result.linkCut.host}'s link was down ${result.linkCut.downSeconds} s after stage ${result.linkCut.atStage}`
          : ""),
    );
    return 0;
  } catch (error) {
    console.error(`netns: FAILED: ${(error as Error).message}`);
    await run.catch(() => undefined); // wait for the tear-down
    return 1;
  }
}

void main().then((code) => process.exit(code));
