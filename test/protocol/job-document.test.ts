import { expect } from "chai";
import {
  encodeJobDocument,
  InvalidArgumentError,
  parseJobDocument,
  type JobDocument,
} from "../../src/protocol";

const doc: JobDocument = {
  format: "pot-job/1",
  name: "mnist-mlp",
  spec: { format: "pot-training-job/1" },
  manifestCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
  initialStateCid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
};

describe("job document", () => {
  it("round-trips through its canonical bytes", () => {
    expect(parseJobDocument(encodeJobDocument(doc))).to.deep.equal(doc);
    expect(parseJobDocument(JSON.stringify({ ...doc, testSetCid: doc.manifestCid })).testSetCid).to.equal(
      doc.manifestCid,
    );
  });

  it("rejects malformed documents naming the field", () => {
    expect(() => parseJobDocument("{")).to.throw(InvalidArgumentError, /valid JSON/);
    expect(() => parseJobDocument([])).to.throw(InvalidArgumentError, /JSON object/);
    expect(() => parseJobDocument({ ...doc, format: "pot-job/2" })).to.throw(InvalidArgumentError, /format/);
    expect(() => parseJobDocument({ ...doc, name: "" })).to.throw(InvalidArgumentError, /name/);
    expect(() => parseJobDocument({ ...doc, spec: null })).to.throw(InvalidArgumentError, /spec/);
    expect(() => parseJobDocument({ ...doc, manifestCid: "not a cid!" })).to.throw(
      InvalidArgumentError,
      /manifestCid/,
    );
    expect(() => parseJobDocument({ ...doc, testSetCid: 5 })).to.throw(InvalidArgumentError, /testSetCid/);
  });
});
