/**
 * The multi-host network (scripts/netns): a 2-stage Iris job with the chain, the employer and three miners
 * each in its own Linux network namespace on 10.77.0.0/24, one miner's link cut for 8 s right after it
 * trained a stage; the job finishes, is fetched and verifies. Needs root and iproute2 (`ip netns`):
 * elsewhere it prints one line and passes (.ci/run runs as root and installs iproute2).
 * POT_NETNS_KEEP=1 keeps the work folder with every process's log.
 */
import { expect } from "chai";
import { runNetworkJob } from "../../scripts/netns/network-job";
import { existingNamespaces, netnsUnavailableReason } from "../../scripts/netns/topology";

describe("multi-host network in Linux network namespaces", function () {
  this.timeout(600_000);
  const unavailable = netnsUnavailableReason();

  it("a job across 5 hosts finishes and verifies although a miner's link was cut mid-stage", async function () {
    if (unavailable !== undefined) {
      console.log("      skipped: needs root and iproute2 (ip netns); run as root or in .ci/run");
      this.skip();
    }
    const result = await runNetworkJob({ cutSeconds: 8, keep: process.env.POT_NETNS_KEEP !== undefined });
    // Each host announced its own address on the subnet, never loopback or 0.0.0.0.
    const octets: Record<string, number> = { employer: 2, miner1: 11, miner2: 12, miner3: 13 };
    for (const [host, octet] of Object.entries(octets))
      expect(result.announced[host], `${host}'s announced address`).to.match(
        new RegExp(`^/ip4/10\\.77\\.0\\.${octet}/tcp/4001/p2p/12D3`),
      );
    // Nothing routes out of the subnet.
    for (const [host, routes] of Object.entries(result.routes))
      expect(routes, `${host}'s routes`).to.deep.equal([
        `10.77.0.0/24 dev eth0 proto kernel scope link src 10.77.0.${host === "chain" ? 1 : octets[host]}`,
      ]);
    expect(result.linkCut).to.deep.include({ host: "miner3", downSeconds: 8 });
    expect(result.finished).to.match(new RegExp(`Job ${result.jobId} .*finished`));
    expect(result.verdict).to.match(new RegExp(`^Job ${result.jobId}: VERIFIED .*2 of 2 stages wrapped`));
    // Tear-down removed every namespace.
    expect(existingNamespaces()).to.deep.equal([]);
    console.log(
      `      netns job: ${result.seconds} s (namespaces, chain, deploy, 3 miners, job, fetch, verify)`,
    );
  });
});
