/**
 * A private multi-host network on one Linux machine: one network namespace per host, each with an `eth0`
 * (one end of a veth pair) on 10.77.0.0/24; the other ends sit in a "switch" namespace, joined by the
 * bridge `br0`. No namespace has a default route, so traffic stays among these hosts; the root namespace
 * is not connected at all. Every namespace is named `potnet-<host>`: `removeLeftovers()` finds and
 * removes those of an earlier run that crashed.
 *
 * Needs root and iproute2 (`ip netns`).
 */
import { execFileSync, spawnSync } from "node:child_process";

/** Every namespace of this network starts with it. */
export const NETNS_PREFIX = "potnet-";
/** The first three octets of the hosts' addresses (a /24). */
export const SUBNET_PREFIX = "10.77.0";
const SWITCH = `${NETNS_PREFIX}switch`;

/** One host of the network: its namespace and its address. */
export interface NetnsHost {
  /** Short name, e.g. "chain", "miner1" (also the name of its veth end in the switch). */
  readonly name: string;
  readonly netns: string;
  /** IPv4 address on the private subnet, e.g. 10.77.0.1. */
  readonly address: string;
}

/** Runs `ip <args>`; throws with its stderr when it fails. */
export function ip(args: readonly string[]): string {
  const r = spawnSync("ip", [...args], { encoding: "utf8" });
  if (r.error !== undefined) throw new Error(`ip ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Why namespaces cannot be made here (not root, no `ip`), or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== "linux") return "network namespaces are Linux only";
  if (process.getuid?.() !== 0) return "not running as root";
  const r = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return "iproute2 (`ip netns`) is not available";
  return undefined;
}

/** The namespaces of this network that exist now (from this run or an earlier one). */
export function existingNamespaces(): string[] {
  return ip(["netns", "list"])
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name !== undefined && name.startsWith(NETNS_PREFIX));
}

/** Kills every process left in namespace `netns`, then deletes it (its veth pairs go with it). */
function removeNamespace(netns: string): void {
  for (const pid of ip(["netns", "pids", netns])
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
  // A killed process may hold the namespace a moment longer; deleting it then still unmounts the name.
  ip(["netns", "delete", netns]);
}

/** Removes every `potnet-*` namespace (an earlier run's leftovers, or this run's at the end); returns their names. */
export function removeLeftovers(): string[] {
  const found = existingNamespaces();
  for (const netns of found) removeNamespace(netns);
  return found;
}

/**
 * Creates the switch namespace with its bridge and one namespace per host name, the i-th host at
 * 10.77.0.<addresses[i]>. Removes what it made if a step fails.
 */
export function createNetwork(hosts: readonly { name: string; octet: number }[]): NetnsHost[] {
  const made: NetnsHost[] = [];
  try {
    ip(["netns", "add", SWITCH]);
    ip(["-n", SWITCH, "link", "add", "br0", "type", "bridge"]);
    ip(["-n", SWITCH, "link", "set", "br0", "up"]);
    for (const { name, octet } of hosts) {
      if (!/^[a-z0-9]{1,12}$/.test(name))
        throw new Error(`host name "${name}": 1-12 lowercase letters or digits`);
      const host: NetnsHost = { name, netns: `${NETNS_PREFIX}${name}`, address: `${SUBNET_PREFIX}.${octet}` };
      ip(["netns", "add", host.netns]);
      made.push(host);
      ip(["-n", SWITCH, "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", host.netns]);
      ip(["-n", SWITCH, "link", "set", name, "master", "br0", "up"]);
      ip(["-n", host.netns, "addr", "add", `${host.address}/24`, "dev", "eth0"]);
      ip(["-n", host.netns, "link", "set", "eth0", "up"]);
      ip(["-n", host.netns, "link", "set", "lo", "up"]);
    }
    return made;
  } catch (error) {
    removeLeftovers();
    throw error;
  }
}

/** Takes a host's link down (cut from the network) or up again. */
export function setLink(host: NetnsHost, up: boolean): void {
  ip(["-n", host.netns, "link", "set", "eth0", up ? "up" : "down"]);
}

/** The routes of a host (for the check that nothing leads out of the subnet). */
export function routesOf(host: NetnsHost): string[] {
  return ip(["-n", host.netns, "route", "show"])
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** One TCP socket of a host as `ss` lists it. */
export interface TcpSocket {
  /** `ss`'s state: "ESTAB" (a connection), "LISTEN" (a server), "TIME-WAIT", ... */
  readonly state: string;
  /** Its own end, e.g. "10.77.0.11:4001" (IPv4-mapped IPv6 written as IPv4, IPv6 in brackets). */
  readonly local: string;
  /** The other end, e.g. "10.77.0.2:53142"; "0.0.0.0:*" for a listening socket. */
  readonly peer: string;
  /** The processes holding it. */
  readonly pids: number[];
}

/** `[::ffff:10.77.0.2]:4001` -> `10.77.0.2:4001`; other addresses as `ss` prints them. */
function plainEndpoint(endpoint: string): string {
  return endpoint.replace(/^\[::ffff:([0-9.]+)\]:/, "$1:");
}

/** Every TCP socket of a host (`ss -Htanp`: State Recv-Q Send-Q Local:Port Peer:Port users:(("node",pid=N,fd=M))). */
export function tcpSockets(host: NetnsHost): TcpSocket[] {
  return runIn(host, ["ss", "-Htanp"])
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 5)
    .map((f) => ({
      state: f[0],
      local: plainEndpoint(f[3]),
      peer: plainEndpoint(f[4]),
      pids: [...(f[5] ?? "").matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])),
    }));
}

/** `ip netns exec <netns>`: the command and arguments that run `argv` inside the host's namespace. */
export function inNamespace(host: NetnsHost, argv: readonly string[]): { command: string; args: string[] } {
  return { command: "ip", args: ["netns", "exec", host.netns, ...argv] };
}

/** Runs a short command inside a host and returns its stdout (throws when it fails or times out). */
export function runIn(host: NetnsHost, argv: readonly string[], timeoutMs = 10_000): string {
  return execFileSync("ip", ["netns", "exec", host.netns, ...argv], { encoding: "utf8", timeout: timeoutMs });
}
