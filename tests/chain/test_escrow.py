"""The hub's escrow: one-transaction deposits, withdrawals, and what happens with bad input."""

import pytest
from eth_utils import event_abi_to_log_topic

from iexec_kit.chain import artifacts
from iexec_kit.errors import ContractRevertError, InsufficientFundsError, KitValueError
from iexec_kit.protocol.units import RLC


def _assert_hub_balanced(sb):
    """The RLC held by the hub equals its ledger's total supply."""
    assert sb.hub.hub_rlc() == sb.hub.total_supply()


def test_deposit_is_one_transaction_via_approve_and_call(sandbox):
    req = sandbox.requester
    wallet0 = sandbox.hub.wallet(req.address)
    block0 = sandbox.chain.block_number()
    receipt = sandbox.deposit(req, 25 * RLC)
    assert sandbox.chain.block_number() == block0 + 1
    assert sandbox.hub.wallet(req.address) == wallet0 - 25 * RLC
    assert sandbox.hub.account(req.address).stake == 25 * RLC
    assert sandbox.chain.call(sandbox.hub.fn.balanceOf(req.address)) == 25 * RLC
    # the hub's Transfer(0 -> requester) mint event is in the same receipt
    mint_topic = event_abi_to_log_topic(
        next(e for e in artifacts.hub_abi() if e.get("name") == "Transfer")
    )
    hub_logs = [
        log
        for log in receipt.logs
        if log["address"] == sandbox.deployment.hub and log["topics"][0] == mint_topic
    ]
    assert len(hub_logs) == 1
    _assert_hub_balanced(sandbox)


def test_withdraw_and_withdraw_to(sandbox):
    req, dev = sandbox.requester, sandbox.app_developer
    sandbox.deposit(req, 10 * RLC)
    sandbox.hub.withdraw(req, 4 * RLC)
    assert sandbox.hub.account(req.address).stake == 6 * RLC
    dev_wallet = sandbox.hub.wallet(dev.address)
    sandbox.hub.withdraw(req, 6 * RLC, to=dev.address)
    assert sandbox.hub.wallet(dev.address) == dev_wallet + 6 * RLC
    assert sandbox.hub.account(req.address).stake == 0
    _assert_hub_balanced(sandbox)


def test_deposit_for_another_account(sandbox):
    sched, w = sandbox.scheduler, sandbox.workers[0]
    rlc, hub = sandbox.hub.rlc, sandbox.hub
    sandbox.chain.transact(rlc.functions.approve(hub.address, 3 * RLC), sched)
    sandbox.chain.transact(hub.fn.depositFor(3 * RLC, w.address), sched)
    assert hub.account(w.address).stake == 3 * RLC
    assert hub.account(sched.address).stake == 0


def test_withdraw_above_stake_says_how_much_is_free(sandbox):
    sandbox.deposit("requester", 2 * RLC)
    with pytest.raises(InsufficientFundsError) as err:
        sandbox.withdraw("requester", 5 * RLC)
    assert "cannot withdraw 5 RLC: the free stake is 2 RLC" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_withdraw_above_stake_on_chain_is_translated(sandbox):
    """Bypassing the kit's check, the contract refuses, and the revert reads as a sentence."""
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(sandbox.hub.fn.withdraw(1), sandbox.requester)
    assert err.value.code == "escrow-0x02"
    assert "exceeds the account's free stake" in str(err.value)


def test_deposit_without_allowance_is_refused_in_words(sandbox):
    """The two-step deposit without its approve step: the token refuses, the kit says why."""
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(sandbox.hub.fn.deposit(5 * RLC), sandbox.requester)
    assert err.value.code == "RLC-0x01"
    assert "allowance is too low" in str(err.value) and "approveAndCall" in str(err.value)
    assert sandbox.hub.account(sandbox.requester.address).stake == 0


def test_deposit_above_wallet_says_what_is_missing(sandbox):
    w = sandbox.workers[0]
    with pytest.raises(InsufficientFundsError) as err:
        sandbox.deposit(w, 150 * RLC)
    assert "missing 50 RLC" in str(err.value) and "faucet" in str(err.value)


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "5"])
def test_amounts_must_be_positive_integers(sandbox, amount):
    with pytest.raises(KitValueError, match="positive whole number of nRLC"):
        sandbox.deposit("requester", amount)


def test_receive_approval_only_from_the_token(sandbox):
    """Nobody can credit themselves by calling receiveApproval directly."""
    req = sandbox.requester
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(
            sandbox.hub.fn.receiveApproval(req.address, RLC, sandbox.deployment.rlc, b""), req
        )
    assert err.value.code == "escrow-0x0e"  # the caller must be the token
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(
            sandbox.hub.fn.receiveApproval(req.address, RLC, sandbox.hub.address, b""), req
        )
    assert err.value.code == "escrow-0x0c"  # and the token named must be the hub's


def test_faucet_gives_once_per_day(sandbox):
    dev = sandbox.dataset_owner
    w0 = sandbox.hub.wallet(dev.address)
    sandbox.hub.faucet(dev)
    assert sandbox.hub.wallet(dev.address) == w0 + 100 * RLC
    with pytest.raises(ContractRevertError) as err:
        sandbox.hub.faucet(dev)
    assert err.value.code == "RLC-0x04"
    sandbox.time_travel(24 * 3600)
    sandbox.hub.faucet(dev)
    assert sandbox.hub.wallet(dev.address) == w0 + 200 * RLC


def test_only_token_owner_mints(sandbox):
    with pytest.raises(ContractRevertError) as err:
        sandbox.chain.transact(
            sandbox.hub.rlc.functions.mint(sandbox.requester.address, 1), sandbox.requester
        )
    assert err.value.code == "RLC-0x03"


def test_hub_token_transfer_moves_stake(sandbox):
    req, w = sandbox.requester, sandbox.workers[1]
    sandbox.deposit(req, 5 * RLC)
    sandbox.chain.transact(sandbox.hub.fn.transfer(w.address, 2 * RLC), req)
    assert sandbox.hub.account(w.address).stake == 2 * RLC
    _assert_hub_balanced(sandbox)
