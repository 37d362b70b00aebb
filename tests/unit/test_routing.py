"""mocks/routing.py: literal beats template, partial matches answer 405, params are decoded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mocks.routing import Router, _segments, _walk


def test_literal_segment_beats_template_whatever_the_order_added():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders/{id}", "get-order")
    router.add("GET", "/v1/orders/search", "search")

    assert router.match("GET", "/v1/orders/search").target == "search"
    match = router.match("GET", "/v1/orders/42")
    assert match.target == "get-order"
    assert match.params == {"id": "42"}


def test_literal_dead_end_backtracks_into_the_template():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders/search", "search")
    router.add("GET", "/v1/orders/{id}/items", "items")

    match = router.match("GET", "/v1/orders/search/items")
    assert match.target == "items"
    assert match.params == {"id": "search"}


def test_unknown_path_is_no_match():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders", "list")

    assert router.match("GET", "/v1/customers") is None
    assert router.match("GET", "/v1/orders/1") is None
    assert router.match("GET", "/v1") is None  # an interior node without methods is not a route


def test_wrong_method_is_a_partial_match_listing_allowed_methods():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders/{id}", "get")
    router.add("DELETE", "/v1/orders/{id}", "delete")
    router.add("POST", "/v1/orders", "create")

    match = router.match("PATCH", "/v1/orders/7")
    assert match is not None
    assert match.target is None
    assert match.allowed == ("DELETE", "GET", "HEAD")
    assert match.params == {"id": "7"}


def test_head_falls_back_to_get_but_not_to_other_methods():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders", "list")
    router.add("POST", "/v1/items", "create")

    assert router.match("HEAD", "/v1/orders").target == "list"
    head_on_post_only = router.match("HEAD", "/v1/items")
    assert head_on_post_only.target is None
    assert head_on_post_only.allowed == ("POST",)


def test_declared_head_wins_over_get():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders", "list")
    router.add("HEAD", "/v1/orders", "head")

    assert router.match("HEAD", "/v1/orders").target == "head"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [("a%20b", "a b"), ("a%2Fb", "a/b"), ("%C3%A9t%C3%A9", "été"), ("plain", "plain"), ("100%", "100%")],
)
def test_path_params_are_percent_decoded_after_splitting(raw, decoded):
    router: Router[str] = Router()
    router.add("GET", "/v1/files/{name}/meta", "meta")

    match = router.match("GET", f"/v1/files/{raw}/meta")
    assert match.target == "meta"
    assert match.params == {"name": decoded}


def test_trailing_slash_is_significant():
    router: Router[str] = Router()
    router.add("POST", "/v1/webhooks/", "create")
    router.add("GET", "/v1/webhooks", "list")

    assert router.match("POST", "/v1/webhooks/").target == "create"
    assert router.match("GET", "/v1/webhooks").target == "list"
    assert router.match("GET", "/v1/webhooks/").allowed == ("POST",)
    assert router.match("POST", "/v1/webhooks").allowed == ("GET", "HEAD")


def test_empty_segment_never_fills_a_param():
    router: Router[str] = Router()
    router.add("GET", "/v1/webhooks/{id}", "get")

    assert router.match("GET", "/v1/webhooks/") is None
    assert router.match("GET", "/v1/webhooks//") is None


def test_failed_branch_leaves_no_stale_params():
    router: Router[str] = Router()
    router.add("GET", "/k/{p}/end", "k")
    router.add("GET", "/{q}/z/w", "q")

    match = router.match("GET", "/k/z/w")  # tries /k/{p=z}/..., fails at 'w', backtracks to {q}
    assert match.target == "q"
    assert match.params == {"q": "k"}


def test_clashing_param_names_at_one_position_raise():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders/{id}", "get")

    with pytest.raises(ValueError, match=r"\{orderId\}.*clashes.*\{id\}"):
        router.add("GET", "/v1/orders/{orderId}/items", "items")


def test_same_param_name_on_sibling_routes_is_fine():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders/{id}", "get")
    router.add("GET", "/v1/orders/{id}/items", "items")

    assert router.match("GET", "/v1/orders/9/items").params == {"id": "9"}


def test_duplicate_route_raises():
    router: Router[str] = Router()
    router.add("GET", "/v1/orders", "one")

    with pytest.raises(ValueError, match="duplicate route GET /v1/orders"):
        router.add("GET", "/v1/orders", "two")


# property: the straight walk is only a shortcut; every answer is the backtracking search's ------------
SEGMENTS = st.sampled_from(["a", "b", "a%2Fb", ""])


def _template(parts: list[str | None]) -> str:
    # one parameter name per depth, so no two routes clash
    return "/" + "/".join(f"{{p{depth}}}" if part is None else part for depth, part in enumerate(parts))


@settings(max_examples=300, deadline=None)
@given(routes=st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=4),
                       max_size=8, unique_by=_template),
       path=st.lists(SEGMENTS, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts)))
def test_a_match_is_the_backtracking_searchs_whatever_the_routes(routes, path):
    router: Router[str] = Router()
    for parts in routes:
        router.add("GET", _template(parts), _template(parts))
    params: dict[str, str] = {}
    node = _walk(router._root, _segments(path), 0, params)
    expected = None if node is None else (node.methods["GET"], params)
    match = router.match("GET", path)
    got = None if match is None else (match.target, match.params)
    assert got == expected, f"routes {[_template(p) for p in routes]}, path {path!r}: {got} != {expected}"
