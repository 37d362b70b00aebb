"""Lagerkoll over HTTP: api_key and login credentials, the store scope, the errorCode envelope,
JSON and XML bodies, hostile XML, store-group sharing, delete, and the per-store rate limit.

Every response goes through the `lagerkoll` fixture's client, which checks it against the contract.
"""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

KEY_1001 = "key-store-1001"     # store 1001, group 10
KEY_1002 = "key-store-1002"     # store 1002, group 10
KEY_2001 = "key-store-2001"     # store 2001, group 20
KEY_2002 = "key-store-2002"     # store 2002, group 20
ANNA = {"username": "anna.andersson@example.com", "password": "sandbox-password-anna"}      # 1001, 1002
BERTIL = {"username": "bertil.berg@example.org", "password": "sandbox-password-bertil"}    # 2001, 2002
XML = "application/xml"
PREFERS_XML = "application/xml, application/json;q=0.5"


def webhook_body(feature: str = "articles", method: str = "created", url: str = "https://hooks.example.com/x") -> dict:
    return {"featureId": feature, "featureMethod": method, "url": url}


def webhook_xml(feature: str = "articles", method: str = "created", url: str = "https://hooks.example.com/x") -> bytes:
    return (f"<webhook><featureId>{feature}</featureId><featureMethod>{method}</featureMethod>"
            f"<url>{url}</url></webhook>").encode()


def key_headers(lagerkoll, principal: str, store: str | None = None) -> dict[str, str]:
    return lagerkoll.auth_headers(principal, store)


def login(lagerkoll, grant: dict) -> dict:
    response = lagerkoll.client.post("/v1/mobile/login", json=grant)
    assert response.status_code == 200, response.text
    return response.json()


def user_headers(session: dict, store: str) -> dict[str, str]:
    return {"user_id": session["user_id"], "user_token": session["user_token"], "store": store}


def create(lagerkoll, headers: dict, body: dict | None = None, group: bool | None = None) -> dict:
    params = {} if group is None else {"enable_for_group": "true" if group else "false"}
    response = lagerkoll.client.post("/v1/webhooks/", json=body or webhook_body(), params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def feature_ids(lagerkoll, headers: dict, feature: str) -> list[int]:
    response = lagerkoll.client.get(f"/v1/webhooks/{feature}", headers=headers)
    assert response.status_code == 200, response.text
    return [w["id"] for w in response.json()["webhooks"]]


def assert_envelope(response, status: int, code: int, field: str | None = "any") -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errorCode", "errorMessage", "errorField", "errorData"}
    assert body["errorCode"] == code and isinstance(body["errorMessage"], str) and body["errorMessage"]
    assert body["errorData"] is None
    if field != "any":
        assert body["errorField"] == field
    return body


def xml_of(response) -> ElementTree.Element:
    assert response.headers["content-type"].startswith(XML), response.headers
    return ElementTree.fromstring(response.content)


def assert_xml_envelope(response, status: int, code: int) -> ElementTree.Element:
    assert response.status_code == status, response.text
    root = xml_of(response)
    assert root.tag == "error"
    assert [child.tag for child in root] == ["errorCode", "errorMessage", "errorField", "errorData"]
    assert root.findtext("errorCode") == str(code)
    assert root.findtext("errorMessage")
    return root


def stored_webhooks(lagerkoll) -> list[dict]:
    return lagerkoll.admin.state().get("webhook", [])


# ------------------------------------------------------------------------------- credentials

def test_an_api_key_with_its_store_works(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    stores = lagerkoll.client.get("/v1/stores/", headers=headers)
    assert stores.status_code == 200
    assert stores.json()["orgName"] == "Sandbox Trading AB"
    assert [s["storeId"] for s in stores.json()["stores"]] == [1001]
    assert feature_ids(lagerkoll, headers, "customerorders") == [1000001, 1000002]


def test_login_issues_user_credentials_that_work_like_an_api_key_in_each_of_the_users_stores(lagerkoll):
    session = login(lagerkoll, ANNA)
    assert session["user_id"] == "501" and len(session["user_token"]) >= 16
    assert [s["storeId"] for s in session["stores"]] == [1001, 1002]
    in_1001, in_1002 = user_headers(session, "1001"), user_headers(session, "1002")
    assert feature_ids(lagerkoll, in_1001, "customerorders") == [1000001, 1000002]
    assert feature_ids(lagerkoll, in_1002, "customerorders") == [1000002]  # 1000001 is 1001's own
    created = create(lagerkoll, in_1002, webhook_body("stocktaking", "started"))
    assert created["id"] in feature_ids(lagerkoll, key_headers(lagerkoll, KEY_1002), "stocktaking")
    deleted = lagerkoll.client.delete(f"/v1/webhooks/{created['id']}", headers=in_1002)
    assert deleted.status_code == 200 and deleted.json() == {}


def test_each_login_issues_a_new_token_and_the_earlier_one_keeps_working(lagerkoll):
    first, second = login(lagerkoll, ANNA), login(lagerkoll, ANNA)
    assert first["user_token"] != second["user_token"]
    for session in (first, second):
        assert lagerkoll.client.get("/v1/stores/", headers=user_headers(session, "1001")).status_code == 200


def test_a_login_token_expires_after_30_days_on_the_mock_clock(lagerkoll):
    lagerkoll.admin.freeze()
    session = login(lagerkoll, BERTIL)
    lagerkoll.admin.advance(30 * 86400 - 1)
    assert lagerkoll.client.get("/v1/stores/", headers=user_headers(session, "2001")).status_code == 200
    lagerkoll.admin.advance(1)
    assert_envelope(lagerkoll.client.get("/v1/stores/", headers=user_headers(session, "2001")), 401, 900001)
    assert lagerkoll.client.get("/v1/stores/", headers=lagerkoll.auth_headers("user-bertil", "2001")).status_code == 200
    fresh = login(lagerkoll, BERTIL)
    assert lagerkoll.client.get("/v1/stores/", headers=user_headers(fresh, "2001")).status_code == 200


def test_the_sandbox_users_pre_issued_credentials_work(lagerkoll):
    response = lagerkoll.client.get("/v1/stores/", headers=lagerkoll.auth_headers("user-bertil", "2002"))
    assert response.status_code == 200
    assert [s["storeId"] for s in response.json()["stores"]] == [2001, 2002]


@pytest.mark.parametrize("grant", [
    {"username": ANNA["username"], "password": "wrong"},
    {"username": "nobody@example.com", "password": ANNA["password"]},
    {"username": ANNA["username"], "password": BERTIL["password"]},
], ids=["wrong-password", "unknown-user", "other-users-password"])
def test_a_failed_login_is_401_900001(lagerkoll, grant):
    assert_envelope(lagerkoll.client.post("/v1/mobile/login", json=grant), 401, 900001)


@pytest.mark.parametrize("headers", [
    {"store": "1001"},
    {"store": "1001", "api_key": "lk_not_a_key"},
    {"store": "1001", "user_id": "501"},
    {"store": "1001", "user_token": "ut_sandbox_anna_3f9a1c7e5b2d4a6f"},
    {"store": "1001", "user_id": "502", "user_token": "ut_sandbox_anna_3f9a1c7e5b2d4a6f"},
    {"store": "1001", "user_id": "501", "user_token": "ut_forged_token_000000000000"},
], ids=["no-credential", "unknown-key", "user-id-only", "token-only", "token-of-another-user", "forged-token"])
def test_bad_credentials_are_401_900001(lagerkoll, headers):
    assert_envelope(lagerkoll.client.get("/v1/webhooks/customerorders", headers=headers), 401, 900001)
    assert_envelope(lagerkoll.client.post("/v1/webhooks/", json=webhook_body(), headers=headers), 401, 900001)


@pytest.mark.parametrize("principal, store", [
    (KEY_1001, "1002"),   # same group, another store's key
    (KEY_1001, "2001"),   # another group
    (KEY_2002, "1001"),
    ("user-anna", "2001"),
    ("user-bertil", "1002"),
    (KEY_1001, "9999"),   # no such store
])
def test_a_store_the_credential_may_not_use_is_401_900001_and_changes_nothing(lagerkoll, principal, store):
    headers = key_headers(lagerkoll, principal, store)
    before = stored_webhooks(lagerkoll)
    assert_envelope(lagerkoll.client.get("/v1/webhooks/customerorders", headers=headers), 401, 900001)
    assert_envelope(lagerkoll.client.post("/v1/webhooks/", json=webhook_body(), headers=headers), 401, 900001)
    assert_envelope(lagerkoll.client.delete("/v1/webhooks/1000001", headers=headers), 401, 900001)
    assert stored_webhooks(lagerkoll) == before


def test_login_issued_credentials_are_held_to_the_users_stores(lagerkoll):
    session = login(lagerkoll, ANNA)
    assert_envelope(lagerkoll.client.get("/v1/stores/", headers=user_headers(session, "2001")), 401, 900001)


def test_a_request_without_a_store_header_is_401_900001(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    del headers["store"]
    assert_envelope(lagerkoll.client.get("/v1/stores/", headers=headers), 401, 900001)


# ------------------------------------------------------------------------------- error envelope

def test_protocol_errors_are_in_the_error_code_envelope(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    wrong_method = lagerkoll.client.put("/v1/webhooks/", json=webhook_body(), headers=headers)
    assert_envelope(wrong_method, 405, 900101)
    assert wrong_method.headers["allow"] == "POST"
    unsupported = lagerkoll.client.post("/v1/webhooks/", content=b"featureId=a",
                                        headers={**headers, "Content-Type": "text/plain"})
    assert_envelope(unsupported, 415, 900101)
    assert_envelope(lagerkoll.client.get("/v1/nothing", headers=headers), 404, 902101)


@pytest.mark.parametrize("body, field", [
    ({"featureId": "articles", "featureMethod": "created"}, "url"),
    ({"featureId": "1abc", "featureMethod": "created", "url": "https://x.example.com/"}, "featureId"),
    ({"featureId": "articles", "featureMethod": "created", "url": "ftp://x.example.com/"}, "url"),
    ({"featureId": "articles", "featureMethod": "created", "url": "https://x.example.com/", "id": 5}, "id"),
])
def test_an_invalid_create_is_400_900101_naming_the_field_and_stores_nothing(lagerkoll, body, field):
    before = stored_webhooks(lagerkoll)
    response = lagerkoll.client.post("/v1/webhooks/", json=body, headers=key_headers(lagerkoll, KEY_1001))
    assert_envelope(response, 400, 900101, field)
    assert stored_webhooks(lagerkoll) == before


def test_invalid_parameters_are_400_900101_naming_the_parameter(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    assert_envelope(lagerkoll.client.post("/v1/webhooks/", json=webhook_body(), params={"enable_for_group": "maybe"},
                                          headers=headers), 400, 900101, "enable_for_group")
    assert_envelope(lagerkoll.client.delete("/v1/webhooks/not-a-number", headers=headers), 400, 900101, "id")
    assert_envelope(lagerkoll.client.post("/v1/webhooks/not-a-guid", json={}, headers=headers), 400, 900101, "id")


# ------------------------------------------------------------------------------- JSON and XML

def test_a_webhook_created_in_xml_is_answered_in_xml_and_read_back(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    response = lagerkoll.client.post("/v1/webhooks/", content=webhook_xml("purchaseorders", "received"),
                                     headers={**headers, "Content-Type": XML, "Accept": XML})
    assert response.status_code == 200
    root = xml_of(response)
    assert root.tag == "webhook"
    assert root.findtext("featureId") == "purchaseorders" and root.findtext("featureMethod") == "received"
    assert root.findtext("url") == "https://hooks.example.com/x"
    webhook_id, guid = int(root.findtext("id")), root.findtext("guid")
    assert len(guid) == 36
    listed = lagerkoll.client.get("/v1/webhooks/purchaseorders", headers=headers).json()["webhooks"]
    assert listed == [{"id": webhook_id, "guid": guid, "featureId": "purchaseorders", "featureMethod": "received",
                       "url": "https://hooks.example.com/x"}]
    deleted = lagerkoll.client.delete(f"/v1/webhooks/{webhook_id}", headers={**headers, "Accept": XML})
    assert deleted.status_code == 200 and xml_of(deleted).tag == "webhook" and len(xml_of(deleted)) == 0


def test_the_response_follows_accept_not_the_request_body(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    xml_in_json_out = lagerkoll.client.post("/v1/webhooks/", content=webhook_xml(),
                                            headers={**headers, "Content-Type": XML, "Accept": "application/json"})
    assert xml_in_json_out.status_code == 200
    assert xml_in_json_out.json()["featureId"] == "articles"
    json_in_xml_out = lagerkoll.client.post("/v1/webhooks/", json=webhook_body("stocktaking", "started"),
                                            headers={**headers, "Accept": PREFERS_XML})
    assert json_in_xml_out.status_code == 200 and xml_of(json_in_xml_out).findtext("featureId") == "stocktaking"
    no_accept = lagerkoll.client.post("/v1/webhooks/", json=webhook_body(), headers=headers)
    assert no_accept.headers["content-type"].startswith("application/json")


def test_the_feature_list_is_json_only_and_says_so_in_xml_when_xml_is_all_the_client_takes(lagerkoll):
    """The contract offers `getWebhooksForFeature` in JSON only: a client preferring XML but taking JSON gets
    JSON; one taking only XML gets 406 in its own language."""
    headers = key_headers(lagerkoll, KEY_1001)
    either = lagerkoll.client.get("/v1/webhooks/customerorders", headers={**headers, "Accept": PREFERS_XML})
    assert either.status_code == 200 and [w["id"] for w in either.json()["webhooks"]] == [1000001, 1000002]
    assert_xml_envelope(lagerkoll.client.get("/v1/webhooks/customerorders", headers={**headers, "Accept": XML}),
                        406, 900101)


def test_errors_are_in_xml_when_accept_prefers_xml(lagerkoll):
    headers = {**key_headers(lagerkoll, KEY_1001), "Accept": PREFERS_XML}
    invalid = lagerkoll.client.post("/v1/webhooks/", json={"featureId": "articles", "featureMethod": "created"},
                                    headers=headers)
    assert assert_xml_envelope(invalid, 400, 900101).findtext("errorField") == "url"
    assert_xml_envelope(lagerkoll.client.delete("/v1/webhooks/424242", headers=headers), 404, 902101)
    assert_xml_envelope(lagerkoll.client.get("/v1/stores/", headers={**headers, "api_key": "nope"}), 401, 900001)
    assert_xml_envelope(lagerkoll.client.post("/v1/webhooks/", content=b"<webhook>", headers={
        **headers, "Content-Type": XML}), 400, 900101)


def test_errors_are_in_json_when_accept_prefers_json(lagerkoll):
    headers = {**key_headers(lagerkoll, KEY_1001), "Accept": "application/json, application/xml;q=0.5"}
    assert_envelope(lagerkoll.client.delete("/v1/webhooks/424242", headers=headers), 404, 902101, "id")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE webhook [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<webhook><featureId>articles</featureId><featureMethod>&lol9;</featureMethod>
<url>https://x.example.com/</url></webhook>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE webhook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<webhook><featureId>articles</featureId><featureMethod>&xxe;</featureMethod>
<url>https://x.example.com/</url></webhook>"""

INTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE webhook [<!ENTITY m "created">]>
<webhook><featureId>articles</featureId><featureMethod>&m;</featureMethod><url>https://x.example.com/</url></webhook>"""

HOSTILE_OR_BROKEN_XML = {
    "billion-laughs": BILLION_LAUGHS,
    "external-entity": EXTERNAL_ENTITY,
    "internal-entity": INTERNAL_ENTITY,
    "unclosed": b"<webhook><featureId>articles</featureId>",
    "not-xml": b"{\"featureId\": \"articles\"}",
    "two-roots": webhook_xml() + webhook_xml(),
    "oversized": webhook_xml(url="https://x.example.com/" + "a" * (1 << 20)),
    "unknown-element": webhook_xml().replace(b"</webhook>", b"<storeId>2001</storeId></webhook>"),
}


@pytest.mark.parametrize("payload", list(HOSTILE_OR_BROKEN_XML.values()), ids=list(HOSTILE_OR_BROKEN_XML))
def test_hostile_or_malformed_xml_is_400_900101_and_stores_nothing(lagerkoll, payload):
    headers = {**key_headers(lagerkoll, KEY_1001), "Content-Type": XML}
    before = stored_webhooks(lagerkoll)
    assert_envelope(lagerkoll.client.post("/v1/webhooks/", content=payload, headers=headers), 400, 900101)
    assert_xml_envelope(lagerkoll.client.post("/v1/webhooks/", content=payload, headers={**headers, "Accept": XML}),
                        400, 900101)
    assert stored_webhooks(lagerkoll) == before
    assert feature_ids(lagerkoll, key_headers(lagerkoll, KEY_1001), "articles") == []


# ------------------------------------------------------------------------------- store groups

def test_a_webhook_enabled_for_the_group_is_visible_to_every_store_of_that_group_only(lagerkoll):
    shared = create(lagerkoll, key_headers(lagerkoll, KEY_1001), webhook_body("purchaseorders"), group=True)
    assert set(shared) == {"id", "guid", "featureId", "featureMethod", "url"}  # hidden fields stay hidden
    assert shared["id"] in feature_ids(lagerkoll, key_headers(lagerkoll, KEY_1001), "purchaseorders")
    assert shared["id"] in feature_ids(lagerkoll, key_headers(lagerkoll, KEY_1002), "purchaseorders")
    assert shared["id"] in feature_ids(lagerkoll, lagerkoll.auth_headers("user-anna", "1002"), "purchaseorders")
    for outsider in (key_headers(lagerkoll, KEY_2001), key_headers(lagerkoll, KEY_2002),
                     lagerkoll.auth_headers("user-bertil", "2001")):
        assert shared["id"] not in feature_ids(lagerkoll, outsider, "purchaseorders")
        assert_envelope(lagerkoll.client.post(f"/v1/webhooks/{shared['guid']}", json={}, headers=outsider),
                        404, 902101)
        assert_envelope(lagerkoll.client.delete(f"/v1/webhooks/{shared['id']}", headers=outsider), 404, 902101)
    assert shared["id"] in feature_ids(lagerkoll, key_headers(lagerkoll, KEY_1002), "purchaseorders")


@pytest.mark.parametrize("group", [None, False], ids=["flag-absent", "flag-false"])
def test_a_webhook_not_enabled_for_the_group_is_visible_to_its_own_store_only(lagerkoll, group):
    own = create(lagerkoll, key_headers(lagerkoll, KEY_2001), webhook_body("articles"), group=group)
    assert own["id"] in feature_ids(lagerkoll, key_headers(lagerkoll, KEY_2001), "articles")
    sibling = key_headers(lagerkoll, KEY_2002)
    assert own["id"] not in feature_ids(lagerkoll, sibling, "articles")
    assert_envelope(lagerkoll.client.post(f"/v1/webhooks/{own['guid']}", json={}, headers=sibling), 404, 902101)
    assert_envelope(lagerkoll.client.delete(f"/v1/webhooks/{own['id']}", headers=sibling), 404, 902101)
    assert own["id"] not in feature_ids(lagerkoll, key_headers(lagerkoll, KEY_1001), "articles")


def test_another_store_of_the_group_may_delete_a_shared_webhook(lagerkoll):
    shared = create(lagerkoll, key_headers(lagerkoll, KEY_2002), webhook_body("stocktaking", "started"), group=True)
    response = lagerkoll.client.delete(f"/v1/webhooks/{shared['id']}", headers=key_headers(lagerkoll, KEY_2001))
    assert response.status_code == 200 and response.json() == {}
    assert shared["id"] not in feature_ids(lagerkoll, key_headers(lagerkoll, KEY_2002), "stocktaking")


def test_seeded_group_webhooks_follow_the_same_rule(lagerkoll):
    assert feature_ids(lagerkoll, key_headers(lagerkoll, KEY_2002), "stocktaking") == [1000004]   # group 20
    assert feature_ids(lagerkoll, key_headers(lagerkoll, KEY_1001), "stocktaking") == []
    assert feature_ids(lagerkoll, key_headers(lagerkoll, KEY_2001), "purchaseorders") == []       # 2002's own


# ------------------------------------------------------------------------------- delete

def test_a_deleted_webhook_is_then_404_902101_everywhere(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    webhook = create(lagerkoll, headers, webhook_body("customerorders", "deleted"))
    deleted = lagerkoll.client.delete(f"/v1/webhooks/{webhook['id']}", headers=headers)
    assert deleted.status_code == 200 and deleted.json() == {}
    assert webhook["id"] not in feature_ids(lagerkoll, headers, "customerorders")
    assert_envelope(lagerkoll.client.delete(f"/v1/webhooks/{webhook['id']}", headers=headers), 404, 902101, "id")
    assert_envelope(lagerkoll.client.post(f"/v1/webhooks/{webhook['guid']}", json={"a": 1}, headers=headers),
                    404, 902101, "id")
    assert webhook["id"] not in [w["id"] for w in stored_webhooks(lagerkoll)]


def test_new_webhook_ids_never_reuse_a_deleted_or_seeded_one(lagerkoll):
    headers = key_headers(lagerkoll, KEY_1001)
    first = create(lagerkoll, headers)
    lagerkoll.client.delete(f"/v1/webhooks/{first['id']}", headers=headers)
    second = create(lagerkoll, headers)
    assert second["id"] != first["id"] and second["guid"] != first["guid"]
    assert second["id"] not in {1000001, 1000002, 1000003, 1000004, 1000005}


# ------------------------------------------------------------------------------- rate limit

def test_over_the_limit_is_429_900429_with_retry_after_until_the_window_frees(lagerkoll):
    lagerkoll.admin.freeze()
    lagerkoll.admin.set_limit("3/min")
    headers = key_headers(lagerkoll, KEY_1001)
    for _ in range(3):
        assert lagerkoll.client.get("/v1/stores/", headers=headers).status_code == 200
    over = lagerkoll.client.get("/v1/webhooks/customerorders", headers=headers)
    assert_envelope(over, 429, 900429)
    assert over.headers["retry-after"] == "60"
    over_xml = lagerkoll.client.post("/v1/webhooks/", json=webhook_body(), headers={**headers, "Accept": XML})
    assert_xml_envelope(over_xml, 429, 900429)
    assert over_xml.headers["retry-after"] == "60"
    assert len(stored_webhooks(lagerkoll)) == 5  # the refused create stored nothing

    lagerkoll.admin.advance(59)
    still = lagerkoll.client.get("/v1/stores/", headers=headers)
    assert_envelope(still, 429, 900429)
    assert still.headers["retry-after"] == "1"
    lagerkoll.admin.advance(1)
    assert lagerkoll.client.get("/v1/stores/", headers=headers).status_code == 200


def test_the_limit_is_counted_per_store_and_credential(lagerkoll):
    lagerkoll.admin.freeze()
    lagerkoll.admin.set_limit("2/min")
    anna_1001, anna_1002 = lagerkoll.auth_headers("user-anna", "1001"), lagerkoll.auth_headers("user-anna", "1002")
    for _ in range(2):
        assert lagerkoll.client.get("/v1/stores/", headers=anna_1001).status_code == 200
    assert_envelope(lagerkoll.client.get("/v1/stores/", headers=anna_1001), 429, 900429)
    assert lagerkoll.client.get("/v1/stores/", headers=anna_1002).status_code == 200       # another store
    assert lagerkoll.client.get("/v1/stores/", headers=key_headers(lagerkoll, KEY_1001)).status_code == 200
    assert lagerkoll.client.post("/v1/mobile/login", json=ANNA).status_code == 200           # login is not limited


def test_the_default_limit_is_200_a_minute(lagerkoll):
    policies = lagerkoll.admin.limits()
    assert [(p["limit"], p["window"]) for p in policies] == [(200, 60.0)]
    lagerkoll.admin.freeze()
    headers = key_headers(lagerkoll, KEY_2002)
    statuses = [lagerkoll.client.get("/v1/stores/", headers=headers).status_code for _ in range(201)]
    assert statuses == [200] * 200 + [429]
