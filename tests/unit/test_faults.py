"""mocks/faults.py: fault rules parse strictly, match precisely and fire deterministically."""

from __future__ import annotations

import pytest

from mocks.faultbook import FaultBook
from mocks.faults import FaultError, parse_fault, parse_prefer
from mocks.types import MockRequest, Principal


def request(method: str = "GET", path: str = "/v1/orders/1") -> MockRequest:
    return MockRequest(method, path, {}, {})


ALICE = Principal("alice", ("t1",))


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ({"respond": 503, "colour": "red"}, "unknown fault field(s): colour"),
        ({"drop": "sideways"}, "drop is 'before'"),
        ({"operation": "listOrders"}, "a fault needs at least one of respond, latency"),
        ({"latency": 0}, "a fault needs at least one of respond, latency"),
        ({"respond": {"status": 503, "body": "x"}}, "respond takes"),
        ({"respond": [503]}, "respond takes"),
        ({"respond": 503, "times": "often"}, "bad fault value"),
        ({"respond": 503, "latency": "slow"}, "bad fault value"),
        ({"respond": 503, "probability": 1.5}, "probability is between 0 and 1"),
        ({"respond": 503, "probability": -0.1}, "probability is between 0 and 1"),
        ("respond: 503", "a fault is an object"),
    ],
)
def test_parse_fault_rejects_bad_rules_with_a_reason(spec, says):
    with pytest.raises(FaultError) as info:
        parse_fault(spec)
    assert says in str(info.value)


def test_unknown_field_message_lists_the_known_ones():
    with pytest.raises(FaultError, match="known: .*probability.*respond"):
        parse_fault({"respond": 503, "ratio": 0.5})


@pytest.mark.parametrize(
    ("respond", "expected"),
    [(503, {"status": 503}), ("429", {"status": 429}), ("rate_limited", {"code": "rate_limited"}),
     ({"status": 402, "example": "declined", "message": "no"}, {"status": 402, "example": "declined", "message": "no"})],
)
def test_respond_shorthands(respond, expected):
    assert parse_fault({"respond": respond}).respond == expected


def test_parse_fault_converts_values():
    fault = parse_fault({"latency": "1.5", "times": "2", "after": 1, "retry_after": "30", "drop": "after"}, 7)
    assert (fault.id, fault.latency, fault.times, fault.after, fault.retry_after, fault.drop) == (
        7, 1.5, 2, 1, 30, "after")


def test_times_retires_the_fault():
    book = FaultBook()
    book.add({"respond": 503, "times": 2})
    fired = [book.pick("op", request(), None) is not None for _ in range(4)]
    assert fired == [True, True, False, False]
    assert book.list()[0]["fired"] == 2


def test_after_lets_requests_through_first():
    book = FaultBook()
    book.add({"respond": 503, "after": 2, "times": 1})
    fired = [book.pick("op", request(), None) is not None for _ in range(5)]
    assert fired == [False, False, True, False, False]


def test_probability_with_a_seed_is_deterministic():
    def pattern(seed: int) -> list[bool]:
        book = FaultBook()
        book.add({"respond": 503, "probability": 0.5, "seed": seed})
        return [book.pick("op", request(), None) is not None for _ in range(200)]

    first = pattern(42)
    assert first == pattern(42)
    assert first != pattern(43)
    assert 60 < sum(first) < 140


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_probability_extremes(probability):
    book = FaultBook()
    book.add({"respond": 503, "probability": probability, "seed": 1})
    assert all((book.pick("op", request(), None) is not None) == bool(probability) for _ in range(50))


def test_matching_by_operation_method_path_and_principal():
    book = FaultBook()
    fault = book.add({"respond": 503, "operation": "getOrder", "method": "get", "path": "/v1/orders/*",
                      "principal": "alice"})

    assert book.pick("getOrder", request(), ALICE) is fault
    assert book.pick("listOrders", request(), ALICE) is None
    assert book.pick("getOrder", request("DELETE"), ALICE) is None
    assert book.pick("getOrder", request(path="/v1/customers/1"), ALICE) is None
    assert book.pick("getOrder", request(), Principal("bob", ())) is None
    assert book.pick("getOrder", request(), None) is None


def test_path_glob_is_case_sensitive():
    book = FaultBook()
    book.add({"respond": 503, "path": "/v1/Orders/*"})
    assert book.pick("op", request(path="/v1/orders/1"), None) is None


def test_non_matching_requests_do_not_count_towards_after():
    book = FaultBook()
    book.add({"respond": 503, "method": "POST", "after": 1})
    assert book.pick("op", request("GET"), None) is None
    assert book.pick("op", request("POST"), None) is None
    assert book.pick("op", request("POST"), None) is not None


def test_first_matching_live_fault_wins_and_clear():
    book = FaultBook()
    first = book.add({"respond": 500, "times": 1})
    second = book.add({"respond": 503})
    assert book.pick("op", request(), None) is first
    assert book.pick("op", request(), None) is second
    assert book.clear(second.id) == 1
    assert [f["id"] for f in book.list()] == [first.id]
    assert book.clear() == 1
    assert book.list() == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("code=503", {"status": 503}),
        ("code=402, example=declined", {"status": 402, "example": "declined"}),
        ('example="out_of_stock"; code=409', {"status": 409, "example": "out_of_stock"}),
        ("code=abc", None),
        ("return=representation", None),
        ("dynamic=true, code=200", {"status": 200}),
    ],
)
def test_parse_prefer(header, expected):
    assert parse_prefer(header) == expected


def test_expire_credentials_alone_answers_unauthorized():
    fault = parse_fault({"expire_credentials": True})
    assert fault.expire_credentials
    assert fault.respond == {"code": "unauthorized"}
