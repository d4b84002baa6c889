/**
 * `pot job serve`: keeps a job's data available while it trains (docs/employer.md).
 */
import type { Command } from "commander";
import type { ServeEvent } from "../../../employer";
import type { Announcement } from "../../../miner/announce";
import type { CliContext } from "../../context";
import { CliUsageError } from "../../errors";
import { employer, minerAnnounce, storage } from "../../lazy";
import { terminalProgress } from "../../progress";
import { clock } from "../../../miner/log";
import { serveEventLine, serveInputsLine } from "../../serve-report";
import { handleOf, parseJobId } from "../../args";

/** Registers `pot job serve`. */
export function registerServeCommand(job: Command, context: () => CliContext): void {
  job
    .command("serve")
    .description(
      "keep the job's data available: pin it in the IPFS node, dial the registry's miners, pin each stage result; Ctrl-C stops",
    )
    .argument("<jobId>", "job id")
    .option(
      "--announce",
      "register this IPFS node's first dialable address in the peer registry (staking setPeer) from the configured account",
    )
    .option(
      "--listen <multiaddr>",
      "listen address of the embedded IPFS node (repeatable; default a random loopback TCP port)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      "--exit-when-finished",
      "exit once the job is finished or expired (default: keep serving its data for pot job fetch and pot verify)",
    )
    .action(
      async (jobIdText: string, o: { announce?: boolean; listen?: string[]; exitWhenFinished?: boolean }) => {
        const ctx = context();
        const jobId = parseJobId(jobIdText);
        const session = o.announce === true ? await ctx.signingSession() : await ctx.readSession();
        if (o.listen !== undefined && ctx.config.ipfs.mode === "kubo")
          throw new CliUsageError(
            "--listen configures the embedded IPFS node",
            "Set the listen address in the Kubo daemon's config, or drop --listen",
          );
        const { serveJob, storageConfigOf } = employer();
        const { announcePeerWith } = minerAnnounce();
        const store = await storage().openContentStore(storageConfigOf(ctx.config, { listen: o.listen }));
        let announced: Announcement | undefined;
        if (o.announce === true) {
          try {
            announced = await announcePeerWith(
              session as Parameters<typeof announcePeerWith>[0],
              await store.addresses(),
            );
          } catch (error) {
            await store.close();
            throw error;
          }
          if (announced === undefined) {
            await store.close();
            throw new CliUsageError("the IPFS node has no address to announce", "Pass --listen <multiaddr>");
          }
          ctx.out.note(
            announced.sent
              ? `announced ${announced.multiaddr} in the peer registry (tx ${announced.txHash})`
              : `the peer registry already holds ${announced.multiaddr}`,
          );
        }
        const progress = terminalProgress(!ctx.config.json);
        let inputs: Extract<ServeEvent, { kind: "inputs" }> | undefined;
        let ended: () => void = () => undefined;
        const jobEnded = new Promise<void>((resolve) => (ended = resolve));
        progress.step("pinning the job document, manifest, S_0 and test set");
        const server = await serveJob(handleOf(session), store, jobId, {
          staking: session.contracts.staking,
          pollingIntervalMs: ctx.config.pollingIntervalMs,
          onProgress: (event) => {
            if (event.kind === "inputs") {
              inputs = event;
              progress.count("pin batches", event.pinned, event.total);
              return;
            }
            const line = serveEventLine(jobId, event, o.exitWhenFinished === true);
            if (line !== undefined) progress.log(`${clock()} ${line}`);
            if (event.kind === "finished" || event.kind === "expired") ended();
          },
          onError: (error) => progress.log(`${clock()} warning: ${(error as Error).message}`),
          isLocal: ctx.config.isLocal,
          onNotice: (message) => progress.log(`${clock()} note: ${message}`),
        });
        progress.stop();
        ctx.out.note(`${clock()} ${serveInputsLine(jobId, server.pinned.size, inputs)}`);
        ctx.out.result(
          {
            jobId,
            addresses: server.addresses,
            pinned: [...server.pinned],
            announced: announced?.multiaddr ?? null,
          },
          () => [
            `Serving job ${jobId}: ${server.pinned.size} objects pinned`,
            ...server.addresses.map((a) => `  ${a}`),
            announced !== undefined
              ? `Announced ${announced.multiaddr} in the peer registry; Ctrl-C stops.`
              : "Announce an address with --announce (or pot peer set <multiaddr>); Ctrl-C stops.",
          ],
        );
        await new Promise<void>((done) => {
          process.once("SIGINT", done);
          process.once("SIGTERM", done);
          if (o.exitWhenFinished === true) void jobEnded.then(done);
        });
        await server.stop();
        await store.close();
      },
    );
}
