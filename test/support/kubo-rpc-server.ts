/**
 * Test helper: a small Kubo-compatible RPC server (`/api/v0/...`) over an embedded Helia node, serving
 * exactly the endpoints kubo-rpc-client calls for our store: add, cat, block/get, block/put, block/stat,
 * pin/add, id, swarm/connect. Real HTTP on 127.0.0.1. No Kubo binary can be installed on these machines.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { unixfs } from "@helia/unixfs";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { openHeliaStore, type HeliaContentStore } from "../../src/storage/helia-store";

export interface KuboRpcTestServer {
  /** Base URL, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The Helia-backed node behind the API (its libp2p node is the "daemon's" swarm). */
  node: HeliaContentStore;
  close(): Promise<void>;
}

class RpcError extends Error {}

async function files(req: IncomingMessage): Promise<File[]> {
  const request = new Request("http://127.0.0.1/", {
    method: "POST",
    headers: { "content-type": String(req.headers["content-type"]) },
    body: Readable.toWeb(req) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  const form = await request.formData();
  return [...form.values()].filter((v): v is File => typeof v !== "string");
}

async function drain<T>(it: AsyncIterable<T>): Promise<void> {
  for await (const _ of it) void _;
}

/** Starts the server on 127.0.0.1 (port 0 = any free port) with a fresh Helia node in `repoPath`. */
export async function startKuboRpcTestServer(options: {
  repoPath: string;
  port?: number;
}): Promise<KuboRpcTestServer> {
  const node = await openHeliaStore({ kind: "embedded", repoPath: options.repoPath });
  const helia = node.helia;
  const fs = unixfs(helia);

  const pin = async (cid: CID, signal: AbortSignal) => {
    if (!(await helia.pins.isPinned(cid, { signal }))) await drain(helia.pins.add(cid, { signal }));
  };
  type Handler = (
    q: URLSearchParams,
    req: IncomingMessage,
    res: ServerResponse,
    signal: AbortSignal,
  ) => Promise<unknown>;
  const arg = (q: URLSearchParams): CID => CID.parse(q.get("arg") ?? "");
  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body) + "\n");
  };
  const routes: Record<string, Handler> = {
    add: async (q, req, res, signal) => {
      const cidVersion = q.get("cid-version") === "1" ? 1 : 0;
      const rawLeaves = q.has("raw-leaves") ? q.get("raw-leaves") === "true" : cidVersion === 1;
      const chunkSize = Number(/^size-(\d+)$/.exec(q.get("chunker") ?? "size-262144")?.[1] ?? NaN);
      if (q.get("trickle") === "true" || !(chunkSize > 0))
        throw new RpcError("only balanced size-N chunking");
      const lines: string[] = [];
      for (const file of await files(req)) {
        const cid = await fs.addByteStream(file.stream() as AsyncIterable<Uint8Array>, {
          cidVersion,
          rawLeaves,
          chunker: fixedSize({ chunkSize }),
          layout: balanced({ maxChildrenPerNode: 174 }),
          signal,
        });
        if (q.get("pin") !== "false") await pin(cid, signal);
        lines.push(
          JSON.stringify({
            Name: decodeURIComponent(file.name) || cid.toString(),
            Hash: cid.toString(),
            Size: String(file.size),
          }),
        );
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.end(lines.join("\n") + "\n");
    },
    cat: async (q, _req, res, signal) => {
      const chunks = fs.cat(arg(q), { signal })[Symbol.asyncIterator]();
      const first = await chunks.next(); // fail before the 200 header if the root is missing
      res.writeHead(200, { "content-type": "application/octet-stream" });
      if (first.done !== true) res.write(first.value);
      for (let next = await chunks.next(); next.done !== true; next = await chunks.next())
        res.write(next.value);
      res.end();
    },
    "block/get": async (q, _req, res, signal) => {
      const parts: Uint8Array[] = [];
      for await (const part of await helia.blockstore.get(arg(q), { signal })) parts.push(part);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.concat(parts));
    },
    "block/put": async (q, req, res) => {
      const codec = { raw: 0x55, "dag-pb": 0x70 }[q.get("cid-codec") ?? "raw"];
      if (codec == null || (q.get("mhtype") ?? "sha2-256") !== "sha2-256")
        throw new RpcError("unsupported codec/hash");
      const [file] = await files(req);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const cid = CID.createV1(codec, await sha256.digest(bytes));
      await helia.blockstore.put(cid, bytes);
      json(res, { Key: cid.toString(), Size: bytes.byteLength });
    },
    "block/stat": async (q, _req, res, signal) => {
      const cid = arg(q);
      if (q.get("offline") === "true" && !(await helia.blockstore.has(cid)))
        throw new RpcError("block was not found locally (offline)");
      let size = 0;
      for await (const part of await helia.blockstore.get(cid, { signal })) size += part.byteLength;
      json(res, { Key: cid.toString(), Size: size });
    },
    "pin/add": async (q, _req, res, signal) => {
      await pin(arg(q), signal);
      json(res, { Pins: [arg(q).toString()] });
    },
    id: async (_q, _req, res) => {
      json(res, {
        ID: node.peerId,
        Addresses: await node.addresses(),
        AgentVersion: "pot-kubo-rpc-test/0.1",
        Protocols: [],
      });
    },
    "swarm/connect": async (q, _req, res) => {
      await node.dial(q.getAll("arg"));
      json(res, { Strings: q.getAll("arg").map((a) => `connect ${a} success`) });
    },
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = routes[url.pathname.replace(/^\/api\/v0\//, "")];
    const controller = new AbortController();
    res.on("close", () => controller.abort());
    if (req.method !== "POST" || route == null) {
      res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
      return;
    }
    route(url.searchParams, req, res, controller.signal).catch((err: Error) => {
      if (res.headersSent) return void res.destroy(err);
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          Message: err instanceof RpcError ? err.message : `${err.name}: ${err.message}`,
          Code: 0,
          Type: "error",
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    node,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await node.close();
    },
  };
}
