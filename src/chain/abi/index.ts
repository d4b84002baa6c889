/**
 * The ABIs of the PoT contracts, generated `as const` from the compiled contracts by scripts/gen-abi.ts
 * (`npm run abi`); test/chain/abi-generated.test.ts keeps them in step with contracts/.
 */
export { potTokenAbi } from "./token";
export { potStakingAbi } from "./staking";
export { potEscrowAbi } from "./escrow";
export { potStagesAbi } from "./stages";
export { potOpeningsAbi } from "./openings";
export { potCommitteeAbi } from "./committee";
export { potDisputesAbi } from "./disputes";
