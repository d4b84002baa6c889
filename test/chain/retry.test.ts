import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { createPotPublicClient } from "../../src/chain/clients";
import { RpcUnavailableError } from "../../src/chain/errors";
import { backoffDelay, isTransientError, RetryExhaustedError, withRetry } from "../../src/chain/retry";

type Behaviour = "drop" | "503" | "429" | "ok" | "revert";

/**
 * A real TCP server on 127.0.0.1 speaking just enough HTTP/JSON-RPC: each connection takes the next
 * behaviour of the script (the last one repeats). "drop" closes the connection without answering.
 */
async function scriptedRpcServer(
  script: Behaviour[],
): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    const behaviour = script[Math.min(count, script.length - 1)];
    count++;
    if (behaviour === "drop") {
      socket.destroy();
      return;
    }
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      const headerEnd = buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(buffer)?.[1] ?? 0);
      if (buffer.length < headerEnd + 4 + length) return;
      const request = JSON.parse(buffer.slice(headerEnd + 4, headerEnd + 4 + length)) as { id: number };
      let status = "200 OK";
      let body: unknown = { jsonrpc: "2.0", id: request.id, result: "0x7a69" };
      if (behaviour === "503") status = "503 Service Unavailable";
      if (behaviour === "429") status = "429 Too Many Requests";
      if (behaviour === "503" || behaviour === "429") body = { error: "busy" };
      if (behaviour === "revert") {
        // NotEnoughStakers(3, 2): selector + two words.
        body = {
          jsonrpc: "2.0",
          id: request.id,
          error: {
            code: 3,
            message: "execution reverted",
            data: "0x8f2a6a5b" + "3".padStart(64, "0") + "2".padStart(64, "0"),
          },
        };
      }
      const text = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => count,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const policy = { attempts: 4, baseDelayMs: 20, maxDelayMs: 80 };
const clientFor = (url: string, attempts = policy.attempts) =>
  createPotPublicClient({
    network: "test",
    rpcUrl: url,
    chainId: 31337,
    rpcTimeoutMs: 2_000,
    pollingIntervalMs: 50,
    retry: { ...policy, attempts },
  });

describe("chain: withRetry against a real TCP server", () => {
  it("retries dropped connections and succeeds once the server answers", async () => {
    const server = await scriptedRpcServer(["drop", "drop", "ok"]);
    try {
      expect(await clientFor(server.url).getChainId()).to.equal(31337);
      expect(server.connections()).to.equal(3);
    } finally {
      await server.close();
    }
  });

  it("retries HTTP 503 and 429", async () => {
    const server = await scriptedRpcServer(["503", "429", "ok"]);
    try {
      expect(await clientFor(server.url).getChainId()).to.equal(31337);
      expect(server.connections()).to.equal(3);
    } finally {
      await server.close();
    }
  });

  it("never retries a revert", async () => {
    const server = await scriptedRpcServer(["revert", "ok"]);
    try {
      const error = await clientFor(server.url)
        .request({
          method: "eth_call",
          params: [{ to: "0x0000000000000000000000000000000000000001", data: "0x" }, "latest"],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).to.not.equal(undefined);
      expect(error).to.not.be.instanceOf(RpcUnavailableError);
      expect(isTransientError(error)).to.equal(false);
      expect(server.connections()).to.equal(1);
    } finally {
      await server.close();
    }
  });

  it("gives up at the limit with an error naming the URL and the attempts, after backing off", async () => {
    const server = await scriptedRpcServer(["drop"]);
    try {
      const t0 = Date.now();
      const error = await clientFor(server.url, 3)
        .getChainId()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(RpcUnavailableError);
      expect((error as RpcUnavailableError).attempts).to.equal(3);
      expect((error as Error).message)
        .to.include(server.url)
        .and.include("pot node");
      expect(server.connections()).to.equal(3);
      // Two waits of at least base/2 and base (equal jitter): >= 10 + 20 ms.
      expect(Date.now() - t0).to.be.at.least(30);
    } finally {
      await server.close();
    }
  });

  it("treats connection refused as transient", async () => {
    const server = await scriptedRpcServer(["ok"]);
    const url = server.url;
    await server.close(); // nothing listens there any more
    let calls = 0;
    const error = await withRetry(
      async () => {
        calls++;
        await fetch(url, { method: "POST", body: "{}" });
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(RetryExhaustedError);
    expect(calls).to.equal(3);
  });

  it("rethrows a non-transient error at once", async () => {
    let calls = 0;
    const error = await withRetry(async () => {
      calls++;
      throw new TypeError("bad argument");
    }, policy).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TypeError);
    expect(calls).to.equal(1);
  });

  it("backs off exponentially with jitter, capped", () => {
    const p = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(p, 1, () => 0)).to.equal(50);
    expect(backoffDelay(p, 1, () => 0.999999)).to.equal(100);
    expect(backoffDelay(p, 3, () => 0)).to.equal(200);
    expect(backoffDelay(p, 10, () => 0.999999)).to.equal(1_000);
    expect(backoffDelay(p, 10, () => 0)).to.equal(500);
  });
});
