/**
 * Lineage checks of a job from the chain's events and IPFS, without training anything:
 *  - the job document names a manifest whose root is the on-chain manifestRoot, and S_0 whose hash is the
 *    on-chain initialStateHash;
 *  - every stage trains from the previous stage's result (StageOpened, the header and every declaration
 *    name it as parent);
 *  - every header's hash recomputes, and every declaration it opened opens against its rho (the commitment
 *    recomputes from rho, rand, declarer, job and stage) and names the header's parent and result;
 *  - every wrapped block's hash recomputes and names the header;
 *  - the S fetched by each header's CID hashes to the recorded result.
 */
import type { Hex } from "viem";
import { blockHash, commitmentHash, headerHash, stateHash } from "../protocol";
import { fetchManifest, type ContentStore, type DatasetManifest, type FetchOptions } from "../storage";
import { validateJobSpec } from "../ml";
import { wrappedHeader } from "../employer/ledger";
import { stateRef, type JobRecord } from "../employer/job-data";
import type { Check } from "./report";

/** What the lineage pass learned, for re-execution. */
export interface LineageResult {
  readonly checks: Check[];
  readonly manifest?: DatasetManifest;
  /** Wrapped stages, in order. */
  readonly wrapped: number[];
}

const eq = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Runs every lineage check of a job. Never throws for a failed check: it records it. */
export async function checkLineage(
  record: JobRecord,
  domain: Hex,
  store: ContentStore,
  options: FetchOptions & { onStage?: (stage: number) => void } = {},
): Promise<LineageResult> {
  const checks: Check[] = [];
  const add = (id: string, stage: number, ok: boolean, message: string) =>
    checks.push({ id, stage, ok, message });
  const { events, document } = record;
  const created = events.created;
  const jobId = events.jobId;

  try {
    validateJobSpec(document.spec);
    add("job-spec", 0, true, "the job document's ml spec is valid");
  } catch (error) {
    add("job-spec", 0, false, `the job document's ml spec is invalid: ${(error as Error).message}`);
  }

  let manifest: DatasetManifest | undefined;
  try {
    manifest = await fetchManifest(store, document.manifestCid, created.manifestRoot, options);
    add(
      "manifest-root",
      0,
      true,
      `manifest ${document.manifestCid} hashes to the on-chain root ${created.manifestRoot}`,
    );
    if (manifest.numStages !== created.numStages) {
      add(
        "manifest-stages",
        0,
        false,
        `the manifest cuts ${manifest.numStages} stages, the job has ${created.numStages}`,
      );
    }
  } catch (error) {
    add("manifest-root", 0, false, `manifest ${document.manifestCid}: ${(error as Error).message}`);
  }

  try {
    const s0 = await store.get(document.initialStateCid, options);
    const h = stateHash(s0);
    add(
      "state-hash",
      0,
      eq(h, created.initialStateHash),
      eq(h, created.initialStateHash)
        ? `S_0 (${document.initialStateCid}) hashes to the on-chain initialStateHash`
        : `S_0 fetched by CID ${document.initialStateCid} hashes to ${h}, but the job's initialStateHash is ${created.initialStateHash}`,
    );
  } catch (error) {
    add(
      "state-hash",
      0,
      false,
      `S_0 (${document.initialStateCid}) could not be fetched: ${(error as Error).message}`,
    );
  }

  const wrapped: number[] = [];
  let parent: Hex | undefined = created.initialStateHash;
  for (const s of events.stages) {
    const stage = s.stage;
    options.onStage?.(stage);
    const header = wrappedHeader(s);
    if (s.wrapped === undefined || header === undefined) {
      if (s.wrapped !== undefined)
        add(
          "header-present",
          stage,
          false,
          `block ${s.wrapped.index} wraps header ${s.wrapped.headerHash}, which no HeaderSubmitted event announced`,
        );
      // The lineage ends at the first stage that is not wrapped.
      break;
    }
    wrapped.push(stage);
    if (s.opened !== undefined) {
      add(
        "stage-parent",
        stage,
        eq(s.opened.parentHash, parent),
        eq(s.opened.parentHash, parent)
          ? `stage ${stage} opened from H(S_${stage - 1})`
          : `stage ${stage} opened from ${s.opened.parentHash}, but H(S_${stage - 1}) is ${parent}`,
      );
    } else {
      add("stage-parent", stage, false, `no StageOpened event for stage ${stage}`);
    }
    add(
      "header-parent",
      stage,
      eq(header.parentHash, parent),
      eq(header.parentHash, parent)
        ? `the header of stage ${stage} chains to H(S_${stage - 1})`
        : `the header of stage ${stage} names parent ${header.parentHash}, but the previous stage's result is ${parent}`,
    );
    const recomputed = headerHash(domain, {
      jobId,
      stage,
      parentHash: header.parentHash,
      resultHash: header.resultHash,
      rho: header.rho,
      resultCid: header.resultCid,
      timestamp: header.timestamp,
      builder: header.builder,
    });
    add(
      "header-hash",
      stage,
      eq(recomputed, header.headerHash),
      eq(recomputed, header.headerHash)
        ? `header hash of stage ${stage} recomputes`
        : `header of stage ${stage} hashes to ${recomputed}, the chain recorded ${header.headerHash}`,
    );

    // Every opened declaration opens against rho.
    const needed = s.closed?.disputed ? 1 : created.c;
    add(
      "openings-count",
      stage,
      header.opened.length >= needed,
      `the header of stage ${stage} opened ${header.opened.length} declaration(s)${header.opened.length >= needed ? "" : `, fewer than the ${needed} required`}`,
    );
    for (const declarer of header.opened) {
      const d = [...s.declarations].reverse().find((x) => eq(x.declarer, declarer));
      if (d === undefined) {
        add(
          "commitment-opens",
          stage,
          false,
          `the header of stage ${stage} opened ${declarer}, who has no Declared event for it`,
        );
        continue;
      }
      const commitment = commitmentHash({
        domain,
        rho: header.rho,
        rand: d.rand,
        declarer: d.declarer,
        jobId,
        stage,
      });
      const opens = eq(commitment, d.commitment);
      const agrees = eq(d.parentHash, header.parentHash) && eq(d.resultHash, header.resultHash);
      add(
        "commitment-opens",
        stage,
        opens && agrees,
        !opens
          ? `the declaration of ${declarer} in stage ${stage} does not open against the revealed rho ${header.rho}: commitment ${d.commitment}, recomputed ${commitment}`
          : !agrees
            ? `the declaration of ${declarer} in stage ${stage} names parent ${d.parentHash} / result ${d.resultHash}, the header ${header.parentHash} / ${header.resultHash}`
            : `declaration of ${declarer} in stage ${stage} opens against rho`,
      );
    }

    const w = s.wrapped;
    const recomputedBlock = blockHash(domain, {
      index: w.index,
      parentBlockHash: w.parentBlockHash,
      jobId,
      stage,
      headerHash: w.headerHash,
      attesters: w.attesters,
      wrapper: w.wrapper,
      timestamp: w.timestamp,
    });
    add(
      "block-hash",
      stage,
      eq(recomputedBlock, w.blockHash),
      eq(recomputedBlock, w.blockHash)
        ? `block ${w.index} (stage ${stage}) hash recomputes`
        : `block ${w.index} of stage ${stage} hashes to ${recomputedBlock}, the chain recorded ${w.blockHash}`,
    );

    const ref = stateRef(record, stage)!;
    try {
      const bytes = await store.get(ref.cid, options);
      const h = stateHash(bytes);
      add(
        "state-hash",
        stage,
        eq(h, header.resultHash),
        eq(h, header.resultHash)
          ? `S_${stage} (${ref.cid}) hashes to the recorded result`
          : `S_${stage} fetched by the header's CID ${ref.cid} hashes to ${h}, but the header and its declarations recorded H(S_${stage}) = ${header.resultHash}`,
      );
    } catch (error) {
      add(
        "state-hash",
        stage,
        false,
        `S_${stage} could not be fetched by CID ${ref.cid}: ${(error as Error).message}`,
      );
    }
    parent = header.resultHash;
  }
  return { checks, manifest, wrapped };
}
