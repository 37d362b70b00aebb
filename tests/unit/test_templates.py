"""mocks/templates.py: a whole placeholder keeps the raw value; placeholders in text are formatted."""

from __future__ import annotations

import pytest

from mocks.templates import compile_template, lookup, render

CONTEXT = {
    "body": {"id": 42, "name": "Ada", "tags": ["a", "b"], "address": {"city": "Oslo"}, "note": None,
             "paid": True, "items": [{"sku": "x-1"}, {"sku": "x-2"}]},
    "path": {"id": "ord_1"},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{body.id}", 42),
        ("{body.note}", None),
        ("{body.tags}", ["a", "b"]),
        ("{body.address}", {"city": "Oslo"}),
        ("{body.paid}", True),
        ("{body.items.1.sku}", "x-2"),
    ],
)
def test_exact_placeholder_keeps_the_raw_type(template, expected):
    assert render(template, CONTEXT) == expected
    assert type(render(template, CONTEXT)) is type(expected)


def test_placeholders_inside_text_are_formatted():
    assert render("order {path.id} for {body.name} (#{body.id})", CONTEXT) == "order ord_1 for Ada (#42)"


def test_booleans_in_text_are_json_spelled():
    assert render("paid={body.paid}", CONTEXT) == "paid=true"
    assert render("paid={flag}", {"flag": False}) == "paid=false"


def test_double_braces_escape_literal_braces():
    assert render("{{body.id}} is {body.id}", CONTEXT) == "{body.id} is 42"
    assert render("{{}}", CONTEXT) == "{}"
    assert render("a }} b {{ c", CONTEXT) == "a } b { c"


@pytest.mark.parametrize(
    ("template", "expected"),
    [("{{{body.id}}}", "{42}"), ("{body.id}}}", "42}"), ("{{{{body.id}}}}", "{{body.id}}"),
     ("}}{path.id}{{", "}ord_1{"), ("{body.id}{path.id}", "42ord_1")],
)
def test_escaped_braces_directly_around_placeholders(template, expected):
    # read left to right, as str.format does
    assert render(template, CONTEXT) == expected


def test_text_without_placeholders_is_returned_verbatim():
    assert render("no braces here", CONTEXT) == "no braces here"
    assert render("{not a placeholder", CONTEXT) == "{not a placeholder"
    assert render("{1abc}", CONTEXT) == "{1abc}"  # names start with a letter or underscore


def test_missing_values_are_none_whole_and_empty_in_text():
    assert render("{body.missing}", CONTEXT) is None
    assert render("{nowhere.at.all}", CONTEXT) is None
    assert render("[{body.missing}]", CONTEXT) == "[]"
    assert render("[{body.note}]", CONTEXT) == "[]"
    assert render("{body.items.9.sku}", CONTEXT) is None  # index past the end


def test_nested_lists_and_dicts_are_rendered_recursively():
    template = {"id": "{path.id}", "lines": [{"sku": "{body.items.0.sku}", "qty": 1}, "{body.tags}"],
                "meta": {"city": "in {body.address.city}", "raw": None, "n": 3.5}}
    assert render(template, CONTEXT) == {
        "id": "ord_1",
        "lines": [{"sku": "x-1", "qty": 1}, ["a", "b"]],
        "meta": {"city": "in Oslo", "raw": None, "n": 3.5},
    }


def test_compiled_template_is_reusable_across_contexts():
    compiled = compile_template({"greeting": "hi {name}", "who": "{name}"})
    assert compiled({"name": "a"}) == {"greeting": "hi a", "who": "a"}
    assert compiled({"name": "b"}) == {"greeting": "hi b", "who": "b"}
    assert compiled({}) == {"greeting": "hi ", "who": None}


def test_rendering_does_not_alias_the_template():
    template = {"list": [1, 2]}
    out = render(template, {})
    out["list"].append(3)
    assert template == {"list": [1, 2]}


def test_lookup_reads_attributes_of_objects():
    class Principal:
        id = "p1"

    assert lookup({"principal": Principal()}, "principal.id") == "p1"
    assert lookup({"principal": Principal()}, "principal.nope") is None


class _Attributes:
    scope = "acct_1"


@pytest.mark.parametrize("context", [{"scope": "acct_1", "other": 1}, {"other": 1}, {"scope": None},
                                     _Attributes(), ["acct_1"]])
def test_a_one_name_placeholder_reads_as_a_dotted_one_does_whatever_the_context(context):
    """`{scope}` is read straight off a dict context; any other context is followed as `{a.b}` is."""
    assert compile_template("{scope}")(context) == lookup(context, "scope")
