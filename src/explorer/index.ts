/**
 * src/explorer: `pot explorer`, a read-only local web page over the chain and IPFS (docs/cli.md). Chain
 * reads go through chain-reader.ts only; loss-evaluator.ts computes the curves in the background;
 * snapshot.ts is what the page shows; server.ts serves it with page.html.
 */
export * from "./chain-reader";
export * from "./loss-evaluator";
export * from "./snapshot";
export * from "./server";
