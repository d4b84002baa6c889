/**
 * Announcing an IPFS node in the staking contract's peer registry (`setPeer`), as miners do at start and
 * `pot job serve --announce` does for an employer's data node: the first dialable address of the node,
 * sent only when the registry does not already hold it.
 */
import type { Address } from "viem";
import { PotContractsAdapter } from "../chain/pot-contracts";
import type { PotSession } from "../chain/contracts";

/** A loopback multiaddr (127.0.0.0/8 or ::1): dialable only from the same host. */
function isLoopback(address: string): boolean {
  return address.startsWith("/ip4/127.") || address.startsWith("/ip6/::1/");
}

/**
 * The first address another node can dial: a concrete IP (not 0.0.0.0 / ::) with the /p2p/<peer id> part,
 * a network address before a loopback one (a node listening on 0.0.0.0 lists 127.0.0.1 first, which no
 * other host can reach); loopback only when the node has nothing else (everything on one machine).
 */
export function firstDialableAddress(addresses: readonly string[]): string | undefined {
  const dialable = addresses.filter(
    (a) => !a.startsWith("/ip4/0.0.0.0/") && !a.startsWith("/ip6/::/") && a.includes("/p2p/"),
  );
  return dialable.find((a) => !isLoopback(a)) ?? dialable[0] ?? addresses[0];
}

/** What `announcePeer` did. */
export interface Announcement {
  readonly multiaddr: string;
  /** False when the registry already held this address (no transaction sent). */
  readonly sent: boolean;
  readonly txHash?: `0x${string}`;
}

/** The registry side `announcePeer` needs (PotContractsAdapter). */
export interface PeerRegistry {
  peerOf(who: Address): Promise<string>;
  setPeer(multiaddr: string): Promise<{ hash: `0x${string}` }>;
}

/** Registers the node's first dialable address for `who` unless the registry already holds it. */
export async function announcePeer(
  registry: PeerRegistry,
  who: Address,
  addresses: readonly string[],
): Promise<Announcement | undefined> {
  const multiaddr = firstDialableAddress(addresses);
  if (multiaddr === undefined) return undefined;
  if ((await registry.peerOf(who)) === multiaddr) return { multiaddr, sent: false };
  const sent = await registry.setPeer(multiaddr);
  return { multiaddr, sent: true, txHash: sent.hash };
}

/** `announcePeer` with a signing session (the CLI's). */
export function announcePeerWith(
  session: PotSession & Required<Pick<PotSession, "sender">>,
  addresses: readonly string[],
): Promise<Announcement | undefined> {
  return announcePeer(new PotContractsAdapter(session, session.sender), session.sender.address, addresses);
}
