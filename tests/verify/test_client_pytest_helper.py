"""The pytest plugin's `verify_client` fixture: a Python client function under generated fault schedules."""

from __future__ import annotations

import pytest
from clientkit import client


def test_a_good_function_passes(verify_client):
    outcome = verify_client(api="istockist", client=client("istockist"), examples=2, seed=3)
    assert outcome.passed and outcome.runs >= 4


def test_a_buggy_function_fails_the_test_with_the_shrunk_schedule(verify_client, tmp_path):
    with pytest.raises(pytest.fail.Exception) as failed:
        verify_client(api="istockist", client=client("istockist", "treats-402-as-success"), examples=30, seed=2)
    text = str(failed.value)
    assert text.startswith("verify-client istockist: exit status tells the truth")
    assert "Minimal fault schedule (1 fault):" in text
    assert "declined: 402 card_declined" in text
    assert "What the client did" in text and "-> 402" in text
    assert list(tmp_path.glob("verify-istockist-truthful-exit.yaml"))


def test_a_function_that_fails_without_any_fault_is_reported(verify_client):
    def broken(base_url, credentials):
        raise RuntimeError("cannot even start")

    with pytest.raises(pytest.fail.Exception) as failed:
        verify_client(api="pingnetwork", client=broken, examples=3)
    text = str(failed.value)
    assert "it fails with no fault" in text and "no fault injected at all" in text
    assert "RuntimeError: cannot even start" in text  # the client's own output


def test_a_function_that_does_nothing_is_an_error(verify_client):
    with pytest.raises(pytest.fail.Exception) as failed:
        verify_client(api="pingnetwork", client=lambda base_url, credentials: None, examples=3)
    assert "made no request to the sandbox" in str(failed.value)
