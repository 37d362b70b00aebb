"""mocks/media.py: content negotiation and request/response bodies in JSON, XML and forms."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mocks import media
from mocks.media import (
    FORM,
    JSON,
    XML,
    coerce_form,
    dump_json,
    dump_xml,
    essence,
    load_json,
    negotiate,
    parse_body,
    parse_xml,
)
from mocks.types import MockError

BOTH = [JSON, XML]


def test_essence_strips_parameters_and_case():
    assert essence("Application/JSON; charset=utf-8") == JSON
    assert essence(None) == ""


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("application/xml", XML),
        ("application/json;q=0.5, application/xml", XML),
        ("application/xml;q=0.4, application/json;q=0.9", JSON),
        ("text/html, application/*;q=0.2", JSON),
        ("*/*", JSON),
        ("text/html", None),
        ("application/xml;q=0", None),
        ("APPLICATION/XML", XML),
    ],
)
def test_negotiate_ranks_by_quality_then_order(accept, expected):
    assert negotiate(accept, BOTH) == expected


def test_negotiate_equal_quality_keeps_the_clients_order():
    assert negotiate("application/xml, application/json", BOTH) == XML
    assert negotiate("application/json, application/xml", BOTH) == JSON


def test_negotiate_wildcard_subtype_matches_only_its_type():
    assert negotiate("text/*", [JSON, "text/csv"]) == "text/csv"
    assert negotiate("text/*", BOTH) is None


def test_negotiate_nothing_offered():
    assert negotiate("*/*", []) is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json;q=0, */*", XML),
        ("*/*, application/json;q=0", XML),
        ("application/*;q=0.5, application/json;q=0", XML),
        ("application/*, application/xml;q=0", JSON),
        ("text/html, */*;q=0.1", JSON),
        ("*/*;q=0", None),
    ],
)
def test_negotiate_the_most_specific_range_decides(accept, expected):
    # RFC 9110 12.5.1: an explicit q=0 refuses a type even when a wildcard would accept it
    assert negotiate(accept, BOTH) == expected


def test_parse_json_body():
    assert parse_body(b'{"a": [1, 2.5, null, true]}', JSON, None) == {"a": [1, 2.5, None, True]}


@pytest.mark.parametrize("raw", [b"", b"{", b'{"a": }', b"\xff\xfe\x00", b"[1,]", b"\xef\xbb\xbf{}"])
def test_parse_bad_json_is_invalid_request(raw):
    with pytest.raises(MockError) as info:
        parse_body(raw, JSON, None)
    assert info.value.code == "invalid_request"
    assert "JSON" in str(info.value)


def test_parse_deeply_nested_json_is_invalid_request():
    with pytest.raises(MockError) as info:
        parse_body(b"[" * 100_000, JSON, None)
    assert info.value.code == "invalid_request"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(JSON_VALUES, st.booleans())
def test_json_is_read_as_the_standard_library_reads_it(value, ascii_only):
    # orjson reads most bodies; whichever reader answers, the value is the standard library's, to the type
    # (1 is not 1.0, and an integer of any length keeps every digit)
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert repr(load_json(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize("number", [123456789012345678901234567890, -9223372036854775809, 18446744073709551616])
def test_integers_beyond_64_bits_keep_every_digit(number):
    assert load_json(f'{{"n": {number}}}'.encode()) == {"n": number}


def test_a_repeated_key_keeps_its_first_place_and_last_value():
    assert list(load_json(b'{"a": 1, "b": 2, "a": 3}').items()) == [("a", 3), ("b", 2)]


@pytest.mark.parametrize("raw", [b"NaN", b'{"amount": Infinity}', b"[1e999]"])
def test_parse_non_json_numbers_is_invalid_request(raw):
    with pytest.raises(MockError) as info:
        parse_body(raw, JSON, None)
    assert info.value.code == "invalid_request"


def test_body_size_limit(monkeypatch):
    monkeypatch.setattr(media, "MAX_BODY_BYTES", 10)
    assert parse_body(b'"12345678"', JSON, None) == "12345678"  # exactly the limit is fine
    with pytest.raises(MockError) as info:
        parse_body(b'"123456789"', JSON, None)
    assert info.value.code == "invalid_request"
    assert "10 bytes" in str(info.value)


ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "total": {"type": "number"},
        "paid": {"type": "boolean"},
        "name": {"type": "string"},
        "zip": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
    },
}


def test_xml_is_typed_by_the_schema():
    raw = (b"<order><id>7</id><total>9.5</total><paid>TRUE</paid><name>Ada</name><zip>0150</zip>"
           b"<tags><tag>x</tag></tags><lines><line><qty>2</qty></line><line><qty>3</qty></line></lines></order>")
    assert parse_body(raw, XML, ORDER_SCHEMA) == {
        "id": 7, "total": 9.5, "paid": True, "name": "Ada", "zip": "0150",
        "tags": ["x"], "lines": [{"qty": 2}, {"qty": 3}],
    }


def test_xml_media_type_suffix_is_parsed_as_xml():
    assert parse_body(b"<a><id>1</id></a>", "application/vnd.shop+xml", ORDER_SCHEMA) == {"id": 1}


def test_xml_wrong_scalar_type_is_left_as_text_for_the_validator():
    assert parse_xml(b"<order><id>seven</id><paid>maybe</paid></order>", ORDER_SCHEMA) == {
        "id": "seven", "paid": "maybe"}


def test_xml_without_schema_guesses_lists_from_repeated_tags():
    assert parse_xml(b"<r><n>1</n><n>2</n></r>", {}) == ["1", "2"]
    assert parse_xml(b"<r><a>1</a><b>2</b><a>3</a></r>", {}) == {"a": ["1", "3"], "b": "2"}


@pytest.mark.parametrize("raw", [b"<a><b></a>", b"not xml", b""])
def test_malformed_xml_is_invalid_request(raw):
    with pytest.raises(MockError) as info:
        parse_body(raw, XML, ORDER_SCHEMA)
    assert info.value.code == "invalid_request"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<order><name>&lol4;</name></order>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE order [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<order><name>&secret;</name></order>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE order SYSTEM "http://example.invalid/order.dtd">
<order><name>x</name></order>"""


@pytest.mark.parametrize("raw", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["bomb", "entity", "dtd"])
def test_hostile_xml_is_rejected(raw):
    with pytest.raises(MockError) as info:
        parse_body(raw, XML, ORDER_SCHEMA)
    assert info.value.code == "invalid_request"
    assert "XML" in str(info.value)


def test_deeply_nested_xml_is_invalid_request():
    with pytest.raises(MockError) as info:
        parse_body(b"<a>" * 5000 + b"</a>" * 5000, XML, {})
    assert info.value.code == "invalid_request"


def test_dump_xml_round_trips_through_parse_xml():
    value = {"id": 7, "total": 9.5, "paid": False, "name": "A & <B>", "tags": ["x", "y"],
             "lines": [{"qty": 2}]}
    raw = dump_xml(value, "order")
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?><order>')
    assert parse_xml(raw, ORDER_SCHEMA) == value


def test_dump_xml_names_list_items_by_the_singular():
    raw = dump_xml({"lines": [{"qty": 1}], "s": [1], "data": [2]}, "r")
    assert b"<lines><line><qty>1</qty></line></lines>" in raw
    assert b"<s><item>1</item></s>" in raw
    assert b"<data><item>2</item></data>" in raw


def test_dump_xml_null_round_trips():
    schema = {"type": "object", "properties": {"note": {"type": ["string", "null"]}}}
    assert parse_xml(dump_xml({"note": None}, "r"), schema) == {"note": None}


def test_dump_json_is_compact_utf8():
    assert dump_json({"a": "é", "b": [1, None]}) == '{"a":"é","b":[1,null]}'.encode()


def test_form_values_are_coerced_by_the_schema():
    schema = {"properties": {"qty": {"type": "integer"}, "price": {"type": "number"},
                             "gift": {"type": "boolean"}, "code": {"type": "string"}}}
    assert coerce_form({"qty": "3", "price": "2.5", "gift": "false", "code": "007", "extra": "x"}, schema) == {
        "qty": 3, "price": 2.5, "gift": False, "code": "007", "extra": "x"}
    assert coerce_form({"qty": "three"}, schema) == {"qty": "three"}  # the validator names the bad field


def test_form_body_is_decoded_and_coerced():
    schema = {"properties": {"qty": {"type": "integer"}}}
    assert parse_body(b"qty=3&note=a+b%26c&empty=", FORM, schema) == {"qty": 3, "note": "a b&c", "empty": ""}
