/**
 * Gas of the single PoTLedger (still used by the agents until they move to the split contracts) per call and per finalized stage, on the in-process network.
 *
 *   npx hardhat run scripts/bench/gas-ledger.ts
 *
 * Prints a table and writes docs/bench/gas.md. Scenarios: C=3/K=3, C=5/K=3, C=10/K=3; the first stage
 * of a job (stage 1) and the steady state (stage 3, whose declaration slots are reused from stage 1);
 * attestations as EIP-712 signatures carried in the wrap, and as transactions.
 */
import { writeMarkdown } from "./write-markdown";
import type { ContractTransactionReceipt } from "ethers";
import {
  committee,
  committeeOfSettlement,
  settlementOf,
  createJob,
  declare,
  deployLedger,
  headerOf,
  mineUntilClosed,
  openedOf,
  submitHeader,
  wrapStage,
  type DeclarationRecord,
  type LedgerFixture,
} from "../../test/contracts/helpers/ledger-fixtures";

interface Row {
  scenario: string;
  claims: string;
  declare: number;
  header: number;
  attest: number;
  wrap: number;
  stage: number;
}

async function gasOf(p: Promise<ContractTransactionReceipt | null>): Promise<number> {
  return Number((await p)!.gasUsed);
}

async function stage(f: LedgerFixture, jobId: bigint, s: number, c: number, txAttest: boolean): Promise<Row> {
  const decls: DeclarationRecord[] = [];
  let declGas = 0;
  for (const m of f.miners.slice(0, c)) {
    const before = await f.ledger.runner!.provider!.getBlockNumber();
    decls.push(await declare(f, m, jobId, s));
    const blk = await f.ledger.runner!.provider!.getBlock(before + 1, true);
    const rc = await f.ledger.runner!.provider!.getTransactionReceipt(blk!.transactions[0]);
    declGas = Math.max(declGas, Number(rc!.gasUsed));
  }
  await mineUntilClosed(f, jobId, s);
  const builder = f.byAddress.get(decls[0].declarer.toLowerCase())!;
  const header = Number((await submitHeader(f, builder, jobId, s, decls))!.gasUsed);
  let attest = 0;
  let wrap: number;
  if (txAttest) {
    const { members } = await committee(f, jobId, s);
    for (let i = 0; i < members.length - 1; i++) {
      const m = f.byAddress.get(members[i].toLowerCase())!;
      attest += await gasOf((await f.ledger.connect(m).attest(jobId, s)).wait());
    }
    const wrapper = f.byAddress.get(members[members.length - 1].toLowerCase())!;
    wrap = await gasOf(
      (
        await f.ledger.connect(wrapper).wrap(
          jobId,
          s,
          await headerOf(f, jobId, s),
          await openedOf(f, jobId, s),
          members,
          members.map(() => "0x"),
        )
      ).wait(),
    );
  } else {
    wrap = Number((await wrapStage(f, jobId, s)).receipt!.gasUsed);
  }
  // Pull payments: claim everything after the wrap (not part of the stage; a declarant must claim before
  // its slot of the same parity is reused two stages later).
  const st = await settlementOf(f, jobId, s);
  const claim = f.ledger.connect(f.outsider);
  const builderClaim = await gasOf((await claim.claimBuilder(jobId, s, st)).wait());
  const members = await committeeOfSettlement(f, jobId, s);
  const attesterClaim = await gasOf((await claim.claimAttester(jobId, s, st, members, 0)).wait());
  for (let i = 1; i < members.length; i++) await (await claim.claimAttester(jobId, s, st, members, i)).wait();
  let declClaim = 0;
  for (const d of decls) {
    declClaim = Math.max(declClaim, await gasOf((await claim.claimDeclaration(jobId, s, st, d)).wait()));
  }
  // Declarations are all about the same; use the largest times c for the stage total.
  return {
    scenario: "",
    claims: `${builderClaim} / ${attesterClaim} / ${declClaim}`,
    declare: declGas,
    header,
    attest,
    wrap,
    stage: declGas * c + header + attest + wrap,
  };
}

async function scenario(c: number, k: number, txAttest: boolean): Promise<Row[]> {
  const f = await deployLedger(Math.max(c, k) + 2);
  const jobId = await createJob(f, { c, k, numStages: 4 });
  const rows: Row[] = [];
  const first = await stage(f, jobId, 1, c, txAttest);
  await stage(f, jobId, 2, c, txAttest);
  const steady = await stage(f, jobId, 3, c, txAttest);
  const how = txAttest ? "tx attestations" : "signatures";
  rows.push({ ...first, scenario: `C=${c} K=${k}, first stage, ${how}` });
  rows.push({ ...steady, scenario: `C=${c} K=${k}, steady state, ${how}` });
  return rows;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  rows.push(...(await scenario(3, 3, false)));
  rows.push(...(await scenario(3, 3, true)));
  rows.push(...(await scenario(5, 3, false)));
  rows.push(...(await scenario(10, 3, false)));
  const f = await deployLedger(3);
  const createGas = await gasOf(
    (
      await f.ledger.connect(f.employer).createJob(
        {
          specCid: "0x01551220aa",
          manifestRoot: `0x${"11".repeat(32)}`,
          initialStateHash: `0x${"22".repeat(32)}`,
          numStages: 10,
          c: 3,
          k: 3,
          stageSeconds: 600,
          deadline: BigInt(Math.floor(Date.now() / 1000)) + 10n ** 6n,
        },
        { value: 10n ** 18n },
      )
    ).wait(),
  );
  const header =
    "| scenario | declare (max) | header | attest txs (sum) | wrap | whole stage | claims: builder / attester / declaration (max) |";
  const sep = "|---|---:|---:|---:|---:|---:|---:|";
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.declare} | ${r.header} | ${r.attest || "-"} | ${r.wrap} | ${r.stage} | ${r.claims} |`,
  );
  const steady = rows.find((r) => r.scenario === "C=3 K=3, steady state, signatures")!;
  const first = rows.find((r) => r.scenario === "C=3 K=3, first stage, signatures")!;
  const goals = [
    `- declaration, steady state C=3 K=3: ${steady.declare} gas (goal <= 40000: ${steady.declare <= 40000 ? "met" : "missed"})`,
    `- whole stage, steady state C=3 K=3: ${steady.stage} gas (goal <= 300000: ${steady.stage <= 300000 ? "met" : "missed"})`,
    `- whole first stage C=3 K=3: ${first.stage} gas (goal <= 550000: ${first.stage <= 550000 ? "met" : "missed"})`,
    `- createJob (not counted in a stage): ${createGas} gas`,
  ];
  const table = [header, sep, ...lines].join("\n");
  console.log(table);
  console.log(goals.join("\n"));
  await writeMarkdown(
    "docs/bench/gas-ledger.md",
    `# Ledger gas\n\nGenerated by \`npx hardhat run scripts/bench/gas-ledger.ts\` on the in-process network (solc 0.8.28, viaIR, ` +
      `optimizer 10000 runs, PoTLedger 400 runs to fit 24 KB, cancun). "First stage" is stage 1 of a fresh job ` +
      `(every storage slot is new); "steady state" is stage 3, whose declaration slots and stage record are ` +
      `reused from stage 1 (whose shares were all claimed: a record reused with shares still unclaimed costs ` +
      `one more fresh slot, 22.1k, in the header that reuses it). A whole stage is C ` +
      `declarations + header + attestations + wrap. Claims (pull payments: each builder, committee member ` +
      `and declaration claims its own share and coinbase, one transaction each here; not part of the stage), ` +
      `jury and slashing transactions are not part of a normal stage.\n\n${table}\n\nGoals (issue 3):\n\n${goals.join("\n")}\n`,
  );
  console.log("wrote docs/bench/gas.md");
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
