/**
 * What a host announces and listens on, for networks beyond one machine: the peer registry gets a network
 * address before a loopback one (a node on 0.0.0.0 lists 127.0.0.1 first); POT_IPFS_LISTEN sets the
 * embedded node's listen addresses for every command (miners, `pot job serve`), POT_IPFS_ANNOUNCE the
 * addresses it announces instead (behind NAT).
 */
import { tmpdir } from "node:os";
import { expect } from "chai";
import { ConfigError, loadConfig } from "../../src/config";
import { storageConfigOf } from "../../src/employer/storage-config";
import { firstDialableAddress } from "../../src/miner/announce";

const PEER = "/p2p/12D3KooWS8X8hi8TjtihkFc4aJhtP6vRU7VYh72GsnkkYstaHv1p";

describe("announced and listen addresses", () => {
  it("announces a network address before loopback, never 0.0.0.0, loopback only when alone", () => {
    const onAll = [`/ip4/127.0.0.1/tcp/4001${PEER}`, `/ip4/10.77.0.11/tcp/4001${PEER}`];
    expect(firstDialableAddress(onAll)).to.equal(`/ip4/10.77.0.11/tcp/4001${PEER}`);
    expect(firstDialableAddress([`/ip6/::1/tcp/4001${PEER}`, `/ip6/fd00::5/tcp/4001${PEER}`])).to.equal(
      `/ip6/fd00::5/tcp/4001${PEER}`,
    );
    expect(firstDialableAddress([`/ip4/0.0.0.0/tcp/4001${PEER}`, `/ip4/127.0.0.1/tcp/4001${PEER}`])).to.equal(
      `/ip4/127.0.0.1/tcp/4001${PEER}`,
    );
    expect(firstDialableAddress([])).to.equal(undefined);
  });

  it("POT_IPFS_LISTEN / POT_IPFS_ANNOUNCE set the embedded node's listen and announced addresses; a --listen flag still wins", () => {
    const base = { cwd: tmpdir(), homeDir: tmpdir(), projectRoot: "/proj" };
    const config = loadConfig({
      ...base,
      env: { POT_IPFS_LISTEN: "/ip4/0.0.0.0/tcp/4001, /ip6/::/tcp/4001" },
    });
    expect(config.ipfs).to.deep.equal({
      mode: "embedded",
      listen: ["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001"],
    });
    expect(storageConfigOf(config)).to.deep.include({
      listen: ["/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001"],
    });
    expect(storageConfigOf(config, { listen: ["/ip4/10.77.0.2/tcp/4001"] })).to.deep.include({
      listen: ["/ip4/10.77.0.2/tcp/4001"],
    });
    expect(loadConfig({ ...base, env: {} }).ipfs).to.deep.equal({ mode: "embedded" });
    const behindNat = loadConfig({
      ...base,
      env: { POT_IPFS_LISTEN: "/ip4/0.0.0.0/tcp/4001", POT_IPFS_ANNOUNCE: "/ip4/203.0.113.7/tcp/4001" },
    });
    expect(storageConfigOf(behindNat)).to.deep.include({
      listen: ["/ip4/0.0.0.0/tcp/4001"],
      announce: ["/ip4/203.0.113.7/tcp/4001"],
    });
    expect(() => loadConfig({ ...base, env: { POT_IPFS_ANNOUNCE: "203.0.113.7" } }))
      .to.throw(ConfigError)
      .with.property("message")
      .that.matches(/Invalid ipfs.announce "203.0.113.7" \(from POT_IPFS_ANNOUNCE\)/);
    expect(() => loadConfig({ ...base, env: { POT_IPFS_LISTEN: "0.0.0.0:4001" } }))
      .to.throw(ConfigError)
      .with.property("message")
      .that.matches(/Invalid ipfs.listen "0.0.0.0:4001" \(from POT_IPFS_LISTEN\): expected multiaddrs/);
  });
});
