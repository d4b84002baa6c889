/** `pot explorer`: serves the explorer page (src/explorer) over the configured chain and IPFS. */
import { join } from "node:path";
import type { Command } from "commander";
import { storageConfigOf } from "../../employer/storage-config";
import { handleOf, parseIntOption } from "../args";
import type { CliContext } from "../context";
import { CliUsageError } from "../errors";
import { explorer as explorerModule, storage } from "../lazy";

/** Registers `pot explorer`. */
export function registerExplorerCommand(program: Command, context: () => CliContext): void {
  program
    .command("explorer")
    .description(
      "serve a read-only web page over the chain and IPFS: jobs, stages, loss and accuracy curves, " +
        "who trained, built and attested each block, stakes, rewards and slashes, live",
    )
    .option("--port <n>", "port to listen on (0 picks a free one)", "8080")
    .option(
      "--host <address>",
      "interface to listen on (0.0.0.0 exposes the page to the network)",
      "127.0.0.1",
    )
    .action(async (o: { port: string; host: string }) => {
      const ctx = context();
      const port = parseIntOption("port", o.port, 0)!;
      if (port > 65535) throw new CliUsageError(`Invalid --port "${o.port}"`, "Give a port from 0 to 65535");
      const session = await ctx.readSession();
      const handle = handleOf(session);
      const dir = join(ctx.config.dataDir, "explorer");
      // Its own IPFS repo: a miner or an employer may use the data directory's at the same time.
      const store = await storage().openContentStore(
        storageConfigOf(ctx.config, { repoPath: join(dir, "ipfs") }),
      );
      try {
        const explorer = await explorerModule()
          .startExplorer({
            handle,
            chainId: ctx.config.chainId,
            confirmations: ctx.config.confirmations,
            store,
            port,
            host: o.host,
            pollMs: ctx.config.isLocal ? 500 : 4_000,
            lossCacheFile: join(
              dir,
              `loss-${ctx.config.chainId}-${handle.suite.stages.address.toLowerCase()}.json`,
            ),
            onError: (message) => ctx.out.note(`warning: ${message}`),
          })
          .catch((error: unknown) => {
            if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
              throw new CliUsageError(`Port ${port} on ${o.host} is in use`, "Pick another with --port");
            throw error;
          });
        ctx.out.result(
          { url: explorer.url, stages: handle.suite.stages.address, chainId: ctx.config.chainId },
          () => [`PoT explorer at ${explorer.url} (read-only; Ctrl-C stops it)`],
        );
        await new Promise<void>((done) => {
          process.once("SIGINT", done);
          process.once("SIGTERM", done);
        });
        await explorer.stop();
      } finally {
        await store.close();
      }
    });
}
