/** `pot node`'s port: --port, else the port of POT_LOCAL_RPC_URL (so every command follows), else 8545. */
import { expect } from "chai";
import { localNodePort } from "../../src/cli/commands/node";

describe("pot node: which port", () => {
  it("takes --port, else POT_LOCAL_RPC_URL's port, else 8545; refuses what it cannot listen on", () => {
    expect(localNodePort("0", { POT_LOCAL_RPC_URL: "http://127.0.0.1:9999" })).to.equal(0);
    expect(localNodePort(undefined, { POT_LOCAL_RPC_URL: "http://127.0.0.1:9999" })).to.equal(9999);
    expect(localNodePort(undefined, { POT_LOCAL_RPC_URL: "http://localhost:8546/" })).to.equal(8546);
    expect(localNodePort(undefined, {})).to.equal(8545);
    expect(() => localNodePort("70000", {})).to.throw(/Invalid port "70000"/);
    expect(() => localNodePort(undefined, { POT_LOCAL_RPC_URL: "http://10.0.0.5:8545" })).to.throw(
      /not on this machine/,
    );
    // pot node --host 10.0.0.5: a URL naming that address is this machine's.
    expect(localNodePort(undefined, { POT_LOCAL_RPC_URL: "http://10.0.0.5:8546" }, "10.0.0.5")).to.equal(
      8546,
    );
  });
});
