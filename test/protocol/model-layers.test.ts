/**
 * tau over the protocol's layer shapes (src/protocol/model-layers.ts): pure, so the same on every machine.
 * That every layer the engine validates has a cost is test/ml/model-cost.test.ts.
 */
import { expect } from "chai";
import { layerClassName, modelCost, SUPPORTED_LAYERS, type ModelLayer } from "../../src/protocol";

const dense = (name: string, units: number, activation: "relu" | "softmax"): ModelLayer => ({
  kind: "dense",
  name,
  units,
  activation,
  useBias: true,
});

describe("tau: the cost of the protocol's layers", () => {
  it("an MLP 784-128-10 counts multiply-adds, biases and activations", () => {
    const c = modelCost([784], [dense("h", 128, "relu"), dense("out", 10, "softmax")]);
    const forward = 2 * 784 * 128 + 128 + 128 + (2 * 128 * 10 + 10) + 5 * 10;
    expect(c.forwardFlopsPerSample).to.equal(forward);
    expect(c.trainFlopsPerSample).to.equal(3 * forward);
    expect(c.params).to.equal(784 * 128 + 128 + 128 * 10 + 10);
    expect(c.layers.map((l) => l.outputShape)).to.deep.equal([[128], [10]]);
  });

  it("a small CNN tracks shapes through conv, pooling, flatten and reshape", () => {
    const layers: ModelLayer[] = [
      {
        kind: "conv2d",
        name: "c",
        filters: 8,
        kernelSize: [3, 3],
        strides: [1, 1],
        padding: "valid",
        activation: "relu",
        useBias: true,
      },
      { kind: "pool", name: "p", op: "max", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      { kind: "flatten", name: "f" },
      { kind: "reshape", name: "r", targetShape: [8, 169] },
      { kind: "activation", name: "a", activation: "relu" },
      { kind: "flatten", name: "f2" },
      dense("out", 10, "softmax"),
    ];
    const c = modelCost([28, 28, 1], layers);
    expect(c.layers.map((l) => l.outputShape)).to.deep.equal([
      [26, 26, 8],
      [13, 13, 8],
      [1352],
      [8, 169],
      [8, 169],
      [1352],
      [10],
    ]);
    expect(c.layers[0].forwardFlops).to.equal(26 * 26 * 8 * (2 * 9 + 1) + 26 * 26 * 8);
    expect(c.layers[1].forwardFlops).to.equal(13 * 13 * 8 * 4);
    expect(c.layers[3].forwardFlops).to.equal(0);
    expect(c.layers[4].forwardFlops).to.equal(1352);
    expect(c.params).to.equal(3 * 3 * 8 + 8 + 1352 * 10 + 10);
  });

  it("names every layer kind by a class of SUPPORTED_LAYERS", () => {
    const kinds: ModelLayer[] = [
      dense("d", 1, "relu"),
      { kind: "pool", name: "p", op: "avg", poolSize: [1, 1], strides: [1, 1], padding: "same" },
      { kind: "flatten", name: "f" },
      { kind: "reshape", name: "r", targetShape: [1] },
      { kind: "activation", name: "a", activation: "relu" },
    ];
    for (const layer of kinds) expect(SUPPORTED_LAYERS).to.include(layerClassName(layer));
  });
});
