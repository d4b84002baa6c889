import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Rooms of src/ (README, "Layout"): the agents (miner, employer, verify, explorer) never
 * import each other, nor the orchestration above them (devnet, cli); the shared layers (chain, protocol, ml,
 * storage, config) import no agent. What two agents both need moves down into a shared layer.
 */
const AGENTS = ["miner", "employer", "verify", "explorer"];
const ABOVE = ["devnet", "cli"];
const SHARED = ["chain", "protocol", "ml", "storage", "config"];
const banned = (rooms) => ({
  "no-restricted-imports": [
    "error",
    {
      patterns: rooms.map((room) => ({
        group: [`../${room}`, `../${room}/*`, `../../${room}`, `../../${room}/*`],
        message: `One room of src/ must not import another's (${room}): move what both need to a shared layer (src/chain, src/protocol, src/storage, src/ml).`,
      })),
    },
  ],
});
const roomRules = [
  ...AGENTS.map((room) => ({
    files: [`src/${room}/**/*.ts`],
    rules: banned([...AGENTS.filter((r) => r !== room), ...ABOVE]),
  })),
  ...SHARED.map((room) => ({ files: [`src/${room}/**/*.ts`], rules: banned([...AGENTS, ...ABOVE]) })),
];

export default tseslint.config(
  {
    ignores: [
      "node_modules",
      "artifacts",
      "cache",
      "typechain-types",
      "coverage",
      "dist",
      ".pot",
      "deployments",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
  {
    // Plain CommonJS files (bin/, the mocha reporter): Node globals and require().
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        module: "writable",
        process: "readonly",
        console: "readonly",
        __dirname: "readonly",
      },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  ...roomRules,
);
