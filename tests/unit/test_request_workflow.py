"""The request state machine as data: every allowed move, and the refused ones."""
import pytest

from portal.workflow import (EDITABLE, TERMINAL, TRANSITIONS, RequestState, TransitionNotAllowed, allowed_actions,
                             next_state)

S = RequestState


def test_the_normal_path():
    state = S.DRAFT
    for action in ("submit", "start_review", "return", "submit", "approve", "start_provisioning", "finish",
                   "confirm_receipt"):
        state = next_state(state, action)
    assert state == S.DELIVERED


def test_failures_can_be_retried_and_green_channel_skips_review():
    assert next_state(S.PROVISIONING, "fail") == S.FAILED
    assert next_state(S.FAILED, "retry") == S.PROVISIONING
    assert next_state(S.SUBMITTED, "green_channel") == S.APPROVED


@pytest.mark.parametrize("state,action", [(S.DRAFT, "approve"), (S.APPROVED, "submit"), (S.REJECTED, "submit"),
                                          (S.DELIVERED, "cancel"), (S.PROVISIONING, "approve"), ("bogus", "submit")])
def test_refused_moves(state, action):
    with pytest.raises(TransitionNotAllowed):
        next_state(state, action)


def test_terminal_states_have_no_way_out_and_every_state_is_reachable():
    for state in TERMINAL:
        assert allowed_actions(state) == set()
    reachable = {S.DRAFT} | set(TRANSITIONS.values())
    assert reachable == set(S)
    assert EDITABLE == {S.DRAFT, S.RETURNED}
