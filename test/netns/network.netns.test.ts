/**
 * The multi-host network (scripts/netns): a 2-stage Iris job with the chain, the employer and three miners
 * each in its own Linux network namespace on 10.77.0.0/24, one miner's link cut for 8 s right after it
 * trained a stage; the job finishes, is fetched and verifies, and the cut miner acts on chain again.
 * Peers find each other only through the on-chain peer registry (the embedded IPFS nodes have no other
 * discovery), so the registry must hold each host's 10.77.0.x address, and every TCP connection any host
 * had (sampled every 2 s) must run between 10.77.0.x addresses: none over loopback.
 * Needs root and iproute2 (`ip netns`): elsewhere it prints one line and is skipped (.ci/run runs as root
 * and installs iproute2).
 * POT_NETNS_KEEP=1 keeps the work folder with every process's log.
 */
import { expect } from "chai";
import { runNetworkJob } from "../../scripts/netns/network-job";
import {
  existingNamespaces,
  ip,
  netnsUnavailableReason,
  removeLeftovers,
} from "../../scripts/netns/topology";

describe("multi-host network in Linux network namespaces", function () {
  this.timeout(600_000);
  before(function () {
    const unavailable = netnsUnavailableReason();
    if (unavailable !== undefined) {
      console.log(
        `      multi-host network test skipped: ${unavailable}; run it as root with iproute2 (apt-get install iproute2): sudo node scripts/test.js test/netns`,
      );
      this.skip();
    }
  });

  // Should the run outlive the test (a timeout), its namespaces and every process in them go now.
  after(() => {
    if (netnsUnavailableReason() === undefined) removeLeftovers();
  });

  it("a job across 5 hosts finishes and verifies although a miner's link was cut mid-stage", async function () {
    ip(["netns", "add", "potnet-stale"]); // as an aborted run would leave it
    const result = await runNetworkJob({ cutSeconds: 8, keep: process.env.POT_NETNS_KEEP !== undefined });
    // Each host announced its own address on the subnet, never loopback or 0.0.0.0, and the chain holds it.
    const octets: Record<string, number> = { employer: 2, miner1: 11, miner2: 12, miner3: 13 };
    for (const [host, octet] of Object.entries(octets)) {
      expect(result.announced[host], `${host}'s announced address`).to.match(
        new RegExp(`^/ip4/10\\.77\\.0\\.${octet}/tcp/4001/p2p/12D3`),
      );
      expect(result.registry[host], `${host} in the peer registry on chain`).to.equal(result.announced[host]);
    }
    // Every connection of every host ran on the subnet; the miners' IPFS nodes reached the employer's and
    // each other's; nothing listened on loopback only.
    const onSubnet = /^10\.77\.0\.\d+:\d+ -> 10\.77\.0\.\d+:\d+$/;
    for (const [host, connections] of Object.entries(result.connections))
      for (const c of connections) expect(c, `a TCP connection of ${host}`).to.match(onSubnet);
    const ipfsLinks = (host: string) =>
      result.connections[host].filter((c) => /:4001 ->|:4001$/.test(c)).map((c) => c.replace(/:\d+/g, ""));
    expect(ipfsLinks("employer"), "IPFS connections of the employer").to.include.members([
      "10.77.0.2 -> 10.77.0.11",
      "10.77.0.2 -> 10.77.0.12",
    ]);
    expect(
      ipfsLinks("miner1").concat(ipfsLinks("miner2"), ipfsLinks("miner3")),
      "IPFS connections between miners",
    ).to.satisfy((links: string[]) => links.some((l) => /^10\.77\.0\.1\d -> 10\.77\.0\.1\d$/.test(l)));
    for (const [host, listening] of Object.entries(result.listeners))
      for (const l of listening) expect(l, `a listening socket of ${host}`).not.to.match(/^(127\.|\[::1\])/);
    expect(result.listeners.chain.map((l) => l.split(" ")[0])).to.deep.equal(["10.77.0.1:8545"]);
    // Nothing routes out of the subnet.
    for (const [host, routes] of Object.entries(result.routes))
      expect(routes, `${host}'s routes`).to.deep.equal([
        `10.77.0.0/24 dev eth0 proto kernel scope link src 10.77.0.${host === "chain" ? 1 : octets[host]}`,
      ]);
    expect(result.linkCut).to.deep.include({ host: "miner3", downSeconds: 8 });
    // Back on the chain after the link returned: it sent transactions or read the wraps it missed.
    expect(result.linkCut?.actedAfter, "miner3 on the chain after its link came back").not.to.be.empty;
    expect(result.finished).to.match(new RegExp(`Job ${result.jobId} .*finished`));
    expect(result.verdict).to.match(new RegExp(`^Job ${result.jobId}: VERIFIED .*2 of 2 stages wrapped`));
    // The stale namespace went before the run, the run's own (with the bridge and veths) at its end.
    expect(result.removedAtStart).to.deep.equal(["potnet-stale"]);
    expect(existingNamespaces()).to.deep.equal([]);
    console.log(
      `      netns job: ${result.seconds} s (namespaces, chain, deploy, 3 miners, job, fetch, verify)`,
    );
  });
});
