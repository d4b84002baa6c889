/**
 * The lint rule that keeps the rooms of src/ apart (eslint.config.mjs, `no-restricted-imports`): an agent
 * importing another agent's room, or a shared layer importing an agent, fails `npm run lint`.
 */
import { expect } from "chai";
import { join } from "node:path";
import { ESLint } from "eslint";

const ROOT = join(__dirname, "..", "..");

async function restricted(file: string, source: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(source, { filePath: join(ROOT, file) });
  return result.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("lint: one room of src/ never imports another's", function () {
  this.timeout(60_000);

  it("fails a deliberate cross-agent import (verify -> employer, miner -> explorer)", async () => {
    const a = await restricted(
      "src/verify/probe.ts",
      'import { createJob } from "../employer/create-job";\nexport const x = createJob;\n',
    );
    expect(a).to.have.length(1);
    expect(a[0]).to.match(/must not import another's \(employer\)/);
    const b = await restricted("src/miner/probe.ts", 'export { startExplorer } from "../explorer/server";\n');
    expect(b).to.have.length(1);
  });

  it("fails a shared layer importing an agent (chain -> miner)", async () => {
    const m = await restricted(
      "src/chain/probe.ts",
      'import type { MinerHandle } from "../miner/agent";\nexport type X = MinerHandle;\n',
    );
    expect(m).to.have.length(1);
  });

  it("allows the shared layers and the front end (cli -> employer)", async () => {
    expect(
      await restricted(
        "src/verify/probe.ts",
        'import { readDomain } from "../chain/job-events";\nexport const x = readDomain;\n',
      ),
    ).to.deep.equal([]);
    expect(
      await restricted(
        "src/cli/probe.ts",
        'import { createJob } from "../employer/create-job";\nexport const x = createJob;\n',
      ),
    ).to.deep.equal([]);
  });
});
