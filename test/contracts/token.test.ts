import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { localParams, paramsForNetwork, testnetParams } from "../../deploy/deploy";
import { deployToken, E18, FAUCET_AMOUNT, FAUCET_CAP, FAUCET_COOLDOWN } from "./helpers/staking-fixtures";

describe("PoTToken", () => {
  async function fixture() {
    const [admin, ledger, alice, bob, outsider] = await ethers.getSigners();
    const token = await deployToken(true, [alice.address, bob.address], [100n * E18, 250n * E18]);
    const noFaucet = await deployToken(false, [alice.address], [1n]);
    return { token, noFaucet, admin, ledger, alice, bob, outsider };
  }

  describe("deployment", () => {
    it("is Proof of Training / POT with 18 decimals", async () => {
      const { token } = await loadFixture(fixture);
      expect(await token.name()).to.equal("Proof of Training");
      expect(await token.symbol()).to.equal("POT");
      expect(await token.decimals()).to.equal(18n);
    });

    it("mints the genesis allocation, with Transfer events from zero", async () => {
      const { token, alice, bob } = await loadFixture(fixture);
      expect(await token.balanceOf(alice.address)).to.equal(100n * E18);
      expect(await token.balanceOf(bob.address)).to.equal(250n * E18);
      expect(await token.totalSupply()).to.equal(350n * E18);
      const deployTx = token.deploymentTransaction();
      await expect(deployTx)
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 100n * E18);
      await expect(deployTx)
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, bob.address, 250n * E18);
    });

    it("records the deployer as admin and no ledger", async () => {
      const { token, admin } = await loadFixture(fixture);
      expect(await token.admin()).to.equal(admin.address);
      expect(await token.ledger()).to.equal(ethers.ZeroAddress);
    });

    it("reverts GenesisLengthMismatch when holders and amounts differ in length", async () => {
      const [, , alice] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("PoTToken");
      await expect(factory.deploy([alice.address], [1n, 2n], false, 0n, 0n, 0n))
        .to.be.revertedWithCustomError(factory, "GenesisLengthMismatch")
        .withArgs(1n, 2n);
    });

    it("reverts ERC20InvalidReceiver for a zero genesis holder", async () => {
      const factory = await ethers.getContractFactory("PoTToken");
      await expect(
        factory.deploy([ethers.ZeroAddress], [1n], false, 0n, 0n, 0n),
      ).to.be.revertedWithCustomError(factory, "ERC20InvalidReceiver");
    });

    it("reverts InvalidFaucetAmount when the faucet is enabled with amount 0", async () => {
      const factory = await ethers.getContractFactory("PoTToken");
      await expect(factory.deploy([], [], true, 0n, 60n, 1n)).to.be.revertedWithCustomError(
        factory,
        "InvalidFaucetAmount",
      );
    });

    it("reverts InvalidFaucetCap when the faucet is enabled with a cap below one drip", async () => {
      const factory = await ethers.getContractFactory("PoTToken");
      await expect(factory.deploy([], [], true, 10n, 60n, 9n))
        .to.be.revertedWithCustomError(factory, "InvalidFaucetCap")
        .withArgs(9n, 10n);
      // a disabled faucet ignores its amount and cap
      const off = await factory.deploy([], [], false, 10n, 60n, 0n);
      expect(await off.faucetCap()).to.equal(0n);
    });
  });

  describe("setLedger", () => {
    it("binds the ledger once and emits LedgerSet", async () => {
      const { token, admin, ledger } = await loadFixture(fixture);
      await expect(token.connect(admin).setLedger(ledger.address))
        .to.emit(token, "LedgerSet")
        .withArgs(ledger.address);
      expect(await token.ledger()).to.equal(ledger.address);
    });

    it("reverts NotAdmin for anyone but the deployer", async () => {
      const { token, outsider, ledger } = await loadFixture(fixture);
      await expect(token.connect(outsider).setLedger(ledger.address))
        .to.be.revertedWithCustomError(token, "NotAdmin")
        .withArgs(outsider.address);
    });

    it("reverts ZeroAddress for the zero ledger", async () => {
      const { token, admin } = await loadFixture(fixture);
      await expect(token.connect(admin).setLedger(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        token,
        "ZeroAddress",
      );
    });

    it("reverts LedgerAlreadySet the second time", async () => {
      const { token, admin, ledger, outsider } = await loadFixture(fixture);
      await token.connect(admin).setLedger(ledger.address);
      await expect(token.connect(admin).setLedger(outsider.address))
        .to.be.revertedWithCustomError(token, "LedgerAlreadySet")
        .withArgs(ledger.address);
    });
  });

  describe("mintCoinbase", () => {
    it("lets the ledger mint, with CoinbaseMinted and Transfer", async () => {
      const { token, admin, ledger, alice } = await loadFixture(fixture);
      await token.connect(admin).setLedger(ledger.address);
      const tx = token.connect(ledger).mintCoinbase(alice.address, 5n * E18);
      await expect(tx)
        .to.emit(token, "CoinbaseMinted")
        .withArgs(alice.address, 5n * E18);
      await expect(tx)
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 5n * E18);
      await expect(tx).to.changeTokenBalance(token, alice, 5n * E18);
      expect(await token.totalSupply()).to.equal(355n * E18);
    });

    it("reverts NotLedger before the ledger is set, even for the admin", async () => {
      const { token, admin, alice } = await loadFixture(fixture);
      await expect(token.connect(admin).mintCoinbase(alice.address, 1n))
        .to.be.revertedWithCustomError(token, "NotLedger")
        .withArgs(admin.address);
    });

    it("reverts NotLedger for anyone but the ledger", async () => {
      const { token, admin, ledger, outsider } = await loadFixture(fixture);
      await token.connect(admin).setLedger(ledger.address);
      await expect(token.connect(outsider).mintCoinbase(outsider.address, 1n))
        .to.be.revertedWithCustomError(token, "NotLedger")
        .withArgs(outsider.address);
    });
  });

  describe("faucet", () => {
    it("gives faucetAmount to the caller, with FaucetDripped", async () => {
      const { token, outsider } = await loadFixture(fixture);
      expect(await token.faucetEnabled()).to.equal(true);
      expect(await token.faucetAmount()).to.equal(FAUCET_AMOUNT);
      expect(await token.faucetCooldown()).to.equal(FAUCET_COOLDOWN);
      expect(await token.nextFaucetAt(outsider.address)).to.equal(0n);
      const tx = token.connect(outsider).faucet();
      await expect(tx).to.emit(token, "FaucetDripped").withArgs(outsider.address, FAUCET_AMOUNT);
      await expect(tx).to.changeTokenBalance(token, outsider, FAUCET_AMOUNT);
    });

    it("reverts FaucetCooldown until the cooldown passes, per address", async () => {
      const { token, outsider, alice } = await loadFixture(fixture);
      await token.connect(outsider).faucet();
      const availableAt = BigInt(await time.latest()) + FAUCET_COOLDOWN;
      expect(await token.nextFaucetAt(outsider.address)).to.equal(availableAt);
      await expect(token.connect(outsider).faucet())
        .to.be.revertedWithCustomError(token, "FaucetCooldown")
        .withArgs(availableAt);
      await token.connect(alice).faucet(); // another address is not held back
      await time.setNextBlockTimestamp(availableAt - 1n);
      await expect(token.connect(outsider).faucet()).to.be.revertedWithCustomError(token, "FaucetCooldown");
      await time.setNextBlockTimestamp(availableAt);
      await expect(token.connect(outsider).faucet()).to.emit(token, "FaucetDripped");
    });

    it("reverts FaucetExhausted once faucetCap is minted, whatever the number of fresh addresses", async () => {
      const { token } = await loadFixture(fixture);
      expect(await token.faucetCap()).to.equal(FAUCET_CAP);
      const signers = await ethers.getSigners();
      const drips = Number(FAUCET_CAP / FAUCET_AMOUNT);
      const supply = await token.totalSupply();
      for (let i = 0; i < drips; i++) await token.connect(signers[10 + i]).faucet();
      expect(await token.faucetMinted()).to.equal(FAUCET_CAP);
      expect(await token.totalSupply()).to.equal(supply + FAUCET_CAP);
      const fresh = signers[10 + drips];
      expect(await token.nextFaucetAt(fresh.address)).to.equal(0n); // no cooldown: the cap stops it
      await expect(token.connect(fresh).faucet())
        .to.be.revertedWithCustomError(token, "FaucetExhausted")
        .withArgs(FAUCET_CAP, FAUCET_CAP);
      await time.increase(FAUCET_COOLDOWN);
      await expect(token.connect(signers[10]).faucet()).to.be.revertedWithCustomError(
        token,
        "FaucetExhausted",
      );
    });

    it("reverts FaucetDisabled on a deployment without a faucet", async () => {
      const { noFaucet, outsider } = await loadFixture(fixture);
      expect(await noFaucet.faucetEnabled()).to.equal(false);
      expect(await noFaucet.faucetAmount()).to.equal(0n);
      expect(await noFaucet.faucetCap()).to.equal(0n);
      await expect(noFaucet.connect(outsider).faucet()).to.be.revertedWithCustomError(
        noFaucet,
        "FaucetDisabled",
      );
    });
  });

  describe("deploy parameters (deploy/deploy.ts)", () => {
    it("enable the faucet only with a global cap: local a tenth of its genesis, testnet below the genesis-funded miners", () => {
      const genesis = Array.from({ length: 10 }, (_, i) => ({
        holder: ethers.getAddress(`0x${(i + 1).toString(16).padStart(40, "0")}`),
        amount: 1_000_000n * E18,
      }));
      const local = localParams(genesis);
      expect(local.token.faucet).to.equal(true);
      expect(local.token.faucetCap * 10n).to.be.at.most(genesis.reduce((a, g) => a + g.amount, 0n));
      expect(local.staking.slashBountyBps).to.equal(1000n);
      const testnet = testnetParams(genesis.slice(0, 1));
      expect(testnet.token.faucet).to.equal(true);
      expect(testnet.staking.slashBountyBps).to.equal(1000n);
      // Ten miners funded from the genesis at the default stake (10 x minStake) hold at least twice what
      // every faucet account together can ever get: faucet accounts stay below a third of the stake.
      const tenMiners = 10n * 10n * BigInt(testnet.stages.minStake);
      expect(testnet.token.faucetCap * 2n).to.be.at.most(tenMiners);
      expect(testnet.token.faucetCap % testnet.token.faucetAmount).to.equal(0n);
      // the shipped sets (both with a faucet) exist for local and test networks only
      expect(paramsForNetwork("localhost", genesis)).to.deep.equal(local);
      expect(paramsForNetwork("testnet", genesis.slice(0, 1))).to.deep.equal(testnet);
      expect(() => paramsForNetwork("mainnet", genesis)).to.throw(/token\.faucet = false/);
    });
  });

  describe("burn", () => {
    it("lets a holder burn its own tokens (supply drops) and a spender burn with an allowance", async () => {
      const { token, alice, bob } = await loadFixture(fixture);
      await expect(token.connect(alice).burn(10n * E18))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, 10n * E18);
      expect(await token.totalSupply()).to.equal(340n * E18);
      expect(await token.balanceOf(alice.address)).to.equal(90n * E18);
      await expect(token.connect(bob).burnFrom(alice.address, 1n)).to.be.revertedWithCustomError(
        token,
        "ERC20InsufficientAllowance",
      );
      await token.connect(alice).approve(bob.address, E18);
      await token.connect(bob).burnFrom(alice.address, E18);
      expect(await token.totalSupply()).to.equal(339n * E18);
      await expect(token.connect(bob).burn(251n * E18)).to.be.revertedWithCustomError(
        token,
        "ERC20InsufficientBalance",
      );
    });
  });

  it("transfers like a plain ERC20", async () => {
    const { token, alice, bob } = await loadFixture(fixture);
    await expect(token.connect(alice).transfer(bob.address, E18)).to.changeTokenBalances(
      token,
      [alice, bob],
      [-E18, E18],
    );
  });
});
