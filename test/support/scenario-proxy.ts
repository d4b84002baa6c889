/**
 * A TCP proxy (node:net) in front of the hardhat node, on loopback: miners' RPC URL points at it, and
 * `drop(ms)` destroys every open connection and refuses new ones for `ms` milliseconds (the chain's RPC
 * endpoint dropping connections for a while).
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface RpcProxy {
  readonly url: string;
  /** Connections refused or cut while dropping. */
  readonly dropped: number;
  /** Cuts every connection now and refuses new ones for `ms`. */
  drop(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRpcProxy(targetUrl: string): Promise<RpcProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  let dropUntil = 0;
  let dropped = 0;
  const server: Server = createServer((client) => {
    if (Date.now() < dropUntil) {
      dropped++;
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    open.add(client);
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("proxy has no port");
  return {
    url: `http://127.0.0.1:${addr.port}`,
    get dropped() {
      return dropped;
    },
    async drop(ms) {
      dropUntil = Date.now() + ms;
      for (const s of open) {
        dropped++;
        s.destroy();
      }
      open.clear();
      await new Promise((r) => setTimeout(r, ms));
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
