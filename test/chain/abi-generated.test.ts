/**
 * The generated ABIs (src/chain/abi, scripts/gen-abi.ts) match the compiled contracts: a contract change
 * without `npm run abi` fails here instead of as a wrong call at run time.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { generatedAbiFiles } from "../../scripts/gen-abi";

describe("generated ABIs (src/chain/abi)", function () {
  this.timeout(30_000);

  it("every file equals what scripts/gen-abi.ts writes from the compiled contracts", async () => {
    const files = await generatedAbiFiles();
    expect(files.size).to.equal(7);
    for (const [path, text] of files)
      expect(readFileSync(path, "utf8"), `${path} is stale: run npm run abi`).to.equal(text);
  });
});
