import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ConfigError, loadConfig, POT_ENV_VARIABLES, type LoadConfigOptions } from "../../src/config";
import { readFileSync } from "node:fs";

describe("config: loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "pot-config-"));
  const home = join(dir, "home");
  const base: LoadConfigOptions = { env: {}, cwd: dir, homeDir: home, projectRoot: "/proj" };
  const file = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof body === "string" ? body : JSON.stringify(body));
    return path;
  };
  const configError = (fn: () => unknown): ConfigError => {
    try {
      fn();
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error("expected a ConfigError");
  };

  it("defaults to the localhost preset", () => {
    const c = loadConfig(base);
    expect(c).to.deep.include({
      network: "localhost",
      rpcUrl: "http://127.0.0.1:8545",
      chainId: 31337,
      isLocal: true,
      confirmations: 0,
      pollingIntervalMs: 100,
      deploymentsFile: "/proj/deployments/localhost-31337.json",
      artifactsDir: "/proj/artifacts",
      dataDir: join(home, ".pot"),
      logLevel: "info",
      json: false,
    });
    expect(c.retry).to.deep.equal({ attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 });
    expect(c.ipfs).to.deep.equal({ mode: "embedded" });
    expect(c.wallet).to.deep.equal({ kind: "none" });
  });

  it("uses ./.pot as data directory when it exists", () => {
    const cwd = mkdtempSync(join(tmpdir(), "pot-cwd-"));
    mkdirSync(join(cwd, ".pot"));
    expect(loadConfig({ ...base, cwd }).dataDir).to.equal(join(cwd, ".pot"));
  });

  it("applies flags > environment > file > preset, per field", () => {
    const path = file("layers.json", {
      rpcUrl: "http://127.0.0.1:1111",
      confirmations: 7,
      dataDir: "data-from-file",
      retry: { attempts: 9, baseDelayMs: 10, maxDelayMs: 20 },
      logLevel: "warn",
    });
    const c = loadConfig({
      ...base,
      flags: { config: path, rpcUrl: "http://127.0.0.1:3333", json: true },
      env: { POT_RPC_URL: "http://127.0.0.1:2222", POT_CONFIRMATIONS: "3", POT_RETRY_ATTEMPTS: "4" },
    });
    expect(c.rpcUrl).to.equal("http://127.0.0.1:3333"); // flag beats env and file
    expect(c.confirmations).to.equal(3); // env beats file
    expect(c.retry).to.deep.equal({ attempts: 4, baseDelayMs: 10, maxDelayMs: 20 }); // env and file mix
    expect(c.logLevel).to.equal("warn"); // file beats default
    expect(c.dataDir).to.equal(join(dir, "data-from-file")); // relative to the file's folder
    expect(c.json).to.equal(true);
    expect(c.chainId).to.equal(31337); // preset
  });

  it("takes the config file from POT_CONFIG and --verbose as debug level", () => {
    const path = file("env-config.json", { network: "hardhat", confirmations: 1 });
    const c = loadConfig({ ...base, env: { POT_CONFIG: path }, flags: { verbose: true } });
    expect(c.network).to.equal("hardhat");
    expect(c.confirmations).to.equal(1);
    expect(c.deploymentsFile).to.equal("/proj/deployments/hardhat-31337.json");
    expect(c.logLevel).to.equal("debug");
  });

  it("testnet takes URL and chain id from the environment, and says so when they are missing", () => {
    const c = loadConfig({
      ...base,
      env: { POT_NETWORK: "testnet", POT_RPC_URL: "https://rpc.example", POT_CHAIN_ID: "11155111" },
    });
    expect(c).to.deep.include({ network: "testnet", chainId: 11155111, isLocal: false, confirmations: 2 });
    expect(c.deploymentsFile).to.equal("/proj/deployments/testnet-11155111.json");
    const e = configError(() => loadConfig({ ...base, flags: { network: "testnet" } }));
    expect(e.field).to.equal("rpcUrl");
    expect(e.message)
      .to.match(/POT_RPC_URL/)
      .and.match(/POT_CHAIN_ID/);
    const e2 = configError(() =>
      loadConfig({ ...base, flags: { network: "testnet", rpcUrl: "https://rpc.example" } }),
    );
    expect(e2.field).to.equal("chainId");
  });

  it("rejects invalid values naming the field and where they came from", () => {
    const cases: [LoadConfigOptions, string, RegExp][] = [
      [{ env: { POT_CONFIRMATIONS: "-1" } }, "confirmations", /POT_CONFIRMATIONS/],
      [{ flags: { confirmations: "two" } }, "confirmations", /--confirmations/],
      [{ env: { POT_RPC_URL: "ftp://x" } }, "rpcUrl", /http/],
      [{ flags: { chainId: "0" } }, "chainId", /from 1/],
      [{ env: { POT_LOG_LEVEL: "loud" } }, "logLevel", /error, warn, info, debug/],
      [{ env: { POT_JSON: "maybe" } }, "json", /true or false/],
      [{ env: { POT_IPFS_MODE: "kubo" } }, "ipfs.url", /POT_IPFS_URL/],
      [{ env: { POT_IPFS_MODE: "ipfs" } }, "ipfs.mode", /embedded, kubo/],
      [
        { env: { POT_RETRY_BASE_DELAY_MS: "500", POT_RETRY_MAX_DELAY_MS: "100" } },
        "retry.maxDelayMs",
        /below/,
      ],
      [{ env: { POT_RETRY_ATTEMPTS: "0" } }, "retry.attempts", /from 1/],
      [{ flags: { network: "my net" } }, "network", /letters/],
    ];
    for (const [opts, field, pattern] of cases) {
      const e = configError(() => loadConfig({ ...base, ...opts, env: opts.env ?? {} }));
      expect(e.field, JSON.stringify(opts)).to.equal(field);
      expect(e.message, JSON.stringify(opts)).to.match(pattern);
    }
  });

  it("reads IPFS kubo mode with its URL", () => {
    const c = loadConfig({ ...base, env: { POT_IPFS_MODE: "kubo", POT_IPFS_URL: "http://127.0.0.1:5001" } });
    expect(c.ipfs).to.deep.equal({ mode: "kubo", url: "http://127.0.0.1:5001" });
  });

  it("rejects a missing, malformed or misspelt configuration file", () => {
    expect(
      configError(() => loadConfig({ ...base, flags: { config: join(dir, "nope.json") } })).message,
    ).to.match(/no such file/);
    expect(
      configError(() => loadConfig({ ...base, flags: { config: file("bad.json", "{") } })).message,
    ).to.match(/not valid JSON/);
    expect(
      configError(() => loadConfig({ ...base, flags: { config: file("typo.json", { confirmation: 1 }) } }))
        .message,
    ).to.match(/unknown key "confirmation"/);
    const e = configError(() =>
      loadConfig({ ...base, flags: { config: file("key.json", { privateKey: "0x" + "11".repeat(32) }) } }),
    );
    expect(e.field).to.equal("privateKey");
    expect(e.message).to.not.include("11".repeat(32));
  });

  it("resolves the wallet source: a flag beats the environment; a bad key is never echoed", () => {
    const key = "0x" + "ab".repeat(32);
    expect(loadConfig({ ...base, env: { POT_PRIVATE_KEY: key } }).wallet).to.deep.equal({
      kind: "private-key",
      privateKey: key,
    });
    expect(
      loadConfig({ ...base, env: { POT_PRIVATE_KEY: key }, flags: { keystore: "ks.json" } }).wallet,
    ).to.deep.equal({
      kind: "keystore",
      path: join(dir, "ks.json"),
    });
    const e = configError(() => loadConfig({ ...base, env: { POT_PRIVATE_KEY: "0xdeadbeef" } }));
    expect(e.field).to.equal("privateKey");
    expect(e.message).to.not.include("deadbeef");
    expect(
      configError(() => loadConfig({ ...base, env: { POT_PRIVATE_KEY: key, POT_KEYSTORE: "k.json" } })).field,
    ).to.equal("wallet");
  });

  it("docs/cli.md documents every POT_* variable the code reads", () => {
    const docs = readFileSync(join(__dirname, "..", "..", "docs", "cli.md"), "utf8");
    const sources = ["config/load.ts", "config/networks.ts", "chain/wallet.ts", "devnet/node-impl.ts"].map(
      (f) => readFileSync(join(__dirname, "..", "..", "src", f), "utf8"),
    );
    const used = new Set(sources.flatMap((s) => s.match(/POT_[A-Z_]+/g) ?? []));
    const listed = new Set(POT_ENV_VARIABLES.map((v) => v.name));
    for (const name of used) {
      expect(listed.has(name), `${name} in POT_ENV_VARIABLES`).to.equal(true);
      expect(docs, `${name} in docs/cli.md`).to.include(name);
    }
  });
});
