"""One test per Fact of ../shared/APIS.md that a contract can carry (and a few Design points,
named as such). Each test names the API it reads; a missing contract fails it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from contractkit import (
    JSON_MEDIA,
    Contract,
    errors_of,
    first_success,
    is_error_status,
    is_secured,
    lookup,
    operation_ids,
    operations,
    parameters,
    pointer,
    ref_pointer,
    resolve,
    response_headers,
    responses,
    security_of,
    validator_at,
)

# ------------------------------------------------------------------ small readers


def schema(c: Contract, node: Any) -> dict:
    """A schema with its $ref and single-entry allOf wrappers resolved, properties merged."""
    node = resolve(c.doc, node) or {}
    merged = dict(node)
    props = dict(node.get("properties") or {})
    required = list(node.get("required") or [])
    for part in node.get("allOf") or []:
        part = schema(c, part)
        props = {**part.get("properties", {}), **props}
        required += part.get("required") or []
        for key in ("type", "format", "enum", "const"):
            if key in part and key not in merged:
                merged[key] = part[key]
    merged["properties"] = {k: schema(c, v) for k, v in props.items()} if props else {}
    merged["required"] = required
    return merged


def media_schema(c: Contract, op: dict, status: str, media: str = "application/json") -> dict:
    resp = responses(c.doc, op)[status]
    return schema(c, resp["content"][media]["schema"])


def body_schema(c: Contract, op: dict, media: str = "application/json") -> dict:
    return schema(c, resolve(c.doc, op["requestBody"])["content"][media]["schema"])


def op_by_id(c: Contract, oid: str) -> tuple[str, str, dict, dict]:
    by_id = operation_ids(c.doc)
    assert oid in by_id, f"no operation {oid}"
    return by_id[oid]


def find_ops(c: Contract, method: str | None = None, path: str | None = None) -> list[tuple[str, str, dict, dict]]:
    """Operations whose method matches and whose path matches the regex `path` (fullmatch)."""
    return [(p, m, op, item) for p, m, op, item in operations(c.doc)
            if (method is None or m == method) and (path is None or re.fullmatch(path, p))]


def one_op(c: Contract, method: str, path: str) -> tuple[str, str, dict, dict]:
    found = find_ops(c, method, path)
    assert found, f"no {method.upper()} operation on a path matching {path}"
    return found[0]


def servers_of(c: Contract, item: dict, op: dict) -> list[dict]:
    return op.get("servers") or item.get("servers") or c.doc.get("servers") or []


def real_urls(c: Contract, path: str, item: dict, op: dict) -> list[str]:
    """Full URLs of an operation on its non-mock servers, with server variables at their defaults."""
    urls = []
    for s in servers_of(c, item, op):
        if s.get("x-mock-server"):
            continue
        url = s["url"]
        for name, var in (s.get("variables") or {}).items():
            url = url.replace("{" + name + "}", str(var.get("default")))
        urls.append(url.rstrip("/") + path)
    return urls


def header_param(c: Contract, op: dict, item: dict, name: str) -> dict | None:
    return parameters(c.doc, op, item).get(("header", name.lower()))


def error_schemas(c: Contract, status: str | None = None) -> list[tuple[str, dict]]:
    """(label, schema) of every JSON error response (of one status, or all 4xx/5xx)."""
    found = []
    for path, method, op, _ in operations(c.doc):
        if op.get("x-mock-error-template"):
            continue
        for st, resp in responses(c.doc, op).items():
            if (status is None and is_error_status(st)) or st == status:
                for media, obj in (resp.get("content") or {}).items():
                    if JSON_MEDIA.match(media):
                        found.append((f"{method.upper()} {path} {st}", schema(c, obj["schema"])))
    return found


def error_schema_ptrs(c: Contract, status: str | None = None) -> list[str]:
    ptrs = set()
    for path, method, op, _ in operations(c.doc):
        if op.get("x-mock-error-template"):
            continue
        for st, resp in (op.get("responses") or {}).items():
            st = str(st)
            if (status is None and is_error_status(st)) or st == status:
                rp = ref_pointer(c.doc, resp, pointer("paths", path, method, "responses", st))
                for media in resolve(c.doc, resp).get("content") or {}:
                    if JSON_MEDIA.match(media):
                        ptrs.add(rp + pointer("content", media, "schema"))
    return sorted(ptrs)


def examples_of(c: Contract, media_obj: dict) -> list[Any]:
    return [resolve(c.doc, ex).get("value") for ex in (media_obj.get("examples") or {}).values()]


def nullable(s: dict) -> bool:
    t = s.get("type")
    return (t == "null" or (isinstance(t, list) and "null" in t) or ("const" in s and s["const"] is None)
            or None in (s.get("enum") or [1]) or s == {"properties": {}, "required": []}
            or any(nullable(schema_alt) for schema_alt in (s.get("oneOf") or []) + (s.get("anyOf") or [])))


def listener_ops(c: Contract, listener: str) -> list[tuple[str, str, dict, dict]]:
    tags = set(((c.doc.get("x-mock-api") or {}).get("listeners") or {})[listener].get("tags") or [])
    return [(p, m, op, item) for p, m, op, item in operations(c.doc) if not tags or tags & set(op.get("tags") or [])]


def scheme_headers(c: Contract, requirement: dict) -> set[str]:
    return {c.schemes[n]["name"].lower() for n in requirement if c.schemes.get(n, {}).get("type") == "apiKey"}


# ================================================================== Konducter


@pytest.fixture
def konducter(load) -> Contract:
    return load("konducter")


def test_konducter_cloud_and_local_servers(konducter):
    c = konducter
    assert any(s["url"].rstrip("/") == "https://api.konducter.com" for s in c.doc.get("servers") or []), \
        "no cloud server https://api.konducter.com"
    listeners = (c.doc.get("x-mock-api") or {}).get("listeners") or {}
    local = [name for name, li in listeners.items() if li.get("port") == 22288]
    assert local, "no x-mock-api listener on the published local port 22288"
    local_ops = listener_ops(c, local[0])
    assert local_ops, "the local listener serves no operation"
    for path, method, op, item in local_ops:
        urls = [s for s in servers_of(c, item, op) if not s.get("x-mock-server")]
        ok = any(re.fullmatch(r"http://\{LocalHostname\}:\{LocalPort\}/?", s["url"])
                 and str((s.get("variables") or {}).get("LocalPort", {}).get("default")) == "22288" for s in urls)
        assert ok, f"{method.upper()} {path}: no server http://{{LocalHostname}}:{{LocalPort}} with LocalPort 22288"


def test_konducter_auth_is_accesskey_and_accesssecret_headers(konducter):
    c = konducter
    problems = []
    for path, method, op, _ in operations(c.doc):
        reqs = security_of(c.doc, op)
        if not reqs or not all({"accesskey", "accesssecret"} <= scheme_headers(c, r) for r in reqs):
            problems.append(f"{method.upper()} {path}: security {reqs} is not AccessKey + AccessSecret headers")
    assert not problems, "\n".join(problems)


def test_konducter_unenabled_application_gets_403(konducter):
    """An application must be enabled for the site's brand and granted each service: else 403."""
    c = konducter
    assert (c.codes.get("forbidden") or {}).get("status") == 403
    lacking = [f"{m.upper()} {p}" for p, m, op, _ in operations(c.doc) if "403" not in responses(c.doc, op)]
    assert not lacking, f"no 403 documented: {lacking}"


def test_konducter_published_ids_are_uuids(konducter):
    c = konducter
    seen, problems = set(), []
    for path, method, op, item in operations(c.doc):
        for (where, name), p in parameters(c.doc, op, item).items():
            if where == "path" and name in ("SiteId", "OrderId", "BrandId", "ApplicationId"):
                seen.add(name)
                if schema(c, p.get("schema")).get("format") != "uuid":
                    problems.append(f"{method.upper()} {path}: {name} is not format uuid")
    assert {"SiteId", "OrderId", "BrandId", "ApplicationId"} <= seen, f"path ids used: {sorted(seen)}"
    assert not problems, "\n".join(problems)


def test_konducter_error_responses_have_no_content(konducter):
    c = konducter
    assert c.errors.get("media-types") == [], "x-mock-errors.media-types must be [] (status code only)"
    problems = [f"{method.upper()} {path} {status}"
                for path, method, op, _ in operations(c.doc)
                for status, resp in responses(c.doc, op).items()
                if is_error_status(status) and resp.get("content")]
    assert not problems, "error responses with a body:\n" + "\n".join(problems)


FOUR = {"x-ratelimit-limit-second", "x-ratelimit-remaining-second",
        "x-ratelimit-limit-minute", "x-ratelimit-remaining-minute"}


def test_konducter_declares_four_ratelimit_headers(konducter):
    c = konducter
    problems = []
    limited = [(p, m, op) for p, m, op, _ in operations(c.doc) if c.policies_covering(op)]
    assert limited, "no operation is rate limited"
    for path, method, op in limited:
        sent = {h.lower() for pol in c.policies_covering(op) for h in (pol.get("headers") or {}).values()}
        if sent != FOUR:
            problems.append(f"{method.upper()} {path}: policies send {sorted(sent)}")
        for status, resp in responses(c.doc, op).items():
            if status.startswith("2") or status == "429":
                missing = FOUR - set(response_headers(c.doc, resp))
                if missing:
                    problems.append(f"{method.upper()} {path} {status}: missing {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_konducter_cloud_and_incoming_webhooks_are_rate_limited(konducter):
    c = konducter
    listeners = (c.doc.get("x-mock-api") or {}).get("listeners") or {}
    problems = []
    for name, listener in listeners.items():
        for path, method, op, _ in listener_ops(c, name):
            windows = {pol.get("window") for pol in c.policies_covering(op)}
            if listener.get("port") == 22288:
                if windows:
                    problems.append(f"local {method.upper()} {path} is rate limited")
            elif not {1, 60} <= windows:
                problems.append(f"cloud {method.upper()} {path}: per-second and per-minute windows, got {windows}")
    assert not problems, "\n".join(problems)


def test_konducter_incoming_webhook_limit_keyed_on_application_and_brand(konducter):
    c = konducter
    path, _method, op, _ = one_op(c, "post", r"/webhooks/\{ApplicationId\}/brands/\{BrandId\}/.*")
    policies = c.policies_covering(op)
    assert policies, f"{path} is not rate limited"
    for pol in policies:
        assert {"{path.ApplicationId}", "{path.BrandId}"} <= set(pol.get("key") or []), \
            f"policy {pol.get('name')} key {pol.get('key')} is not application + brand"
    api = [pol for p, _, o, _ in operations(c.doc) if not p.startswith("/webhooks/")
           for pol in c.policies_covering(o) if pol not in policies]
    assert api, "the cloud API operations are not rate limited"
    for pol in api:
        assert all(k.startswith("{header.") for k in pol.get("key") or []), \
            f"API policy {pol.get('name')} is not keyed on header values: {pol.get('key')}"


def test_konducter_webhook_subscription_has_handler_url_and_event_triggers(konducter):
    c = konducter
    subs = (c.doc.get("x-mock-webhooks") or {}).get("subscriptions") or {}
    assert subs.get("url-field") and subs.get("events-field"), "subscriptions need url-field and events-field"
    res = c.resources.get(subs.get("resource")) or {}
    props = schema(c, lookup(c.doc, res.get("schema", "#")[1:])).get("properties", {})
    assert subs["url-field"] in props and subs["events-field"] in props
    writers = [op for _, _, op, _ in operations(c.doc)
               if (op.get("x-mock-action") or {}).get("resource") == subs.get("resource")
               and (op.get("x-mock-action") or {}).get("kind") in ("create", "update")]
    assert writers, "no operation lets a sandbox user set the subscription"


def test_konducter_webhooks_section_declares_order_events(konducter):
    c = konducter
    events = {op.get("x-mock-event"): op for _, _, op, _ in operations(c.doc, "webhooks")}
    for word in ("created", "updated", "status", "cancel"):
        assert any(e and word in e.lower() for e in events), f"no webhook event for order {word}: {sorted(events)}"
    envelope = {"eventId", "eventType", "timestamp", "applicationId", "brandId", "siteId", "data"}
    for event, op in events.items():
        props = body_schema(c, op).get("properties", {})
        assert envelope <= set(props), f"{event}: envelope lacks {sorted(envelope - set(props))}"
    assert envelope <= set((c.doc.get("x-mock-webhooks") or {}).get("envelope") or {})


def test_konducter_webhooks_are_signed_with_the_access_secret(konducter):
    c = konducter
    sig = (c.doc.get("x-mock-webhooks") or {}).get("signature") or {}
    assert sig.get("algorithm") == "hmac-sha256" and "access_secret" in str(sig.get("secret")).lower()
    for path, method, op, item in operations(c.doc, "webhooks"):
        assert header_param(c, op, item, sig["header"]), f"webhook {path} does not declare {sig['header']}"


def test_konducter_order_lifecycle_is_forward_only(konducter):
    """Design: new, accepted, inProgress, ready, completed, cancelled; only forward transitions."""
    order = ["new", "accepted", "inProgress", "ready", "completed"]
    lifecycle = (konducter.resources.get("order") or {}).get("lifecycle") or {}
    assert lifecycle.get("initial") == "new"
    for src, targets in (lifecycle.get("transitions") or {}).items():
        assert src in order or not targets, f"{src} is a final state or unknown, yet moves to {targets}"
        for t in targets:
            assert t == "cancelled" or order.index(t) > order.index(src), f"{src} -> {t} goes backwards"


# ================================================================== Lagerkoll


@pytest.fixture
def lagerkoll(load) -> Contract:
    return load("lagerkoll")


WEBHOOK_OPS = ("createWebhook", "getWebhooksForFeature", "executeWebhook", "deleteWebhook")
SEED_ERROR = {"errorCode": 900101, "errorMessage": "Something went wrong on the server",
              "errorField": None, "errorData": None}


def _webhook_ops(c: Contract) -> dict[str, tuple[str, str, dict, dict]]:
    base = r"/v1/webhooks/?"
    return {"create": one_op(c, "post", base), "get": one_op(c, "get", base + r"\{[^}]+\}"),
            "execute": one_op(c, "post", base + r"\{[^}]+\}"), "delete": one_op(c, "delete", base + r"\{[^}]+\}")}


def test_lagerkoll_base_url_is_capi_v1_webhooks(lagerkoll):
    for name, (path, method, op, item) in _webhook_ops(lagerkoll).items():
        urls = real_urls(lagerkoll, path, item, op)
        base = "https://capi.lagerkoll.com/v1/webhooks"
        assert any(u == base or u.startswith(base + "/") for u in urls), f"{name}: {urls}"


def test_lagerkoll_429_declares_retry_after_and_code_900429(lagerkoll):
    c = lagerkoll
    rate = c.codes.get("rate_limited") or {}
    assert rate.get("status") == 429 and rate.get("code") == 900429, f"rate_limited is {rate}"
    for name, (path, method, op, _) in _webhook_ops(c).items():
        resp = responses(c.doc, op).get("429")
        assert resp, f"{name}: no 429"
        header = response_headers(c.doc, resp).get("retry-after")
        assert header, f"{name}: 429 without Retry-After"
        assert schema(c, header.get("schema")).get("type") == "integer", "Retry-After is not integer seconds"
        bodies = [v for obj in (resp.get("content") or {}).values()
                  for v in examples_of(c, obj) if isinstance(v, dict)]
        assert bodies and all(b.get("errorCode") == 900429 for b in bodies), f"{name}: 429 examples {bodies}"


def test_lagerkoll_rate_limit_is_200_per_minute(lagerkoll):
    c = lagerkoll
    for name, (path, method, op, _) in _webhook_ops(c).items():
        pols = c.policies_covering(op)
        assert any(p.get("limit") == 200 and p.get("window") == 60 and p.get("retry-after") for p in pols), \
            f"{name}: not limited to 200 per minute with Retry-After: {pols}"


def test_lagerkoll_auth_store_with_api_key_or_user_token(lagerkoll):
    c = lagerkoll
    want = [{"store", "api_key"}, {"store", "user_id", "user_token"}]
    for name, (path, method, op, _) in _webhook_ops(c).items():
        got = [scheme_headers(c, r) for r in security_of(c.doc, op)]
        assert sorted(map(sorted, got)) == sorted(map(sorted, want)), f"{name}: security headers {got}"
    store = [s for s in c.schemes.values() if s.get("name") == "store"]
    assert store and store[0].get("x-mock-scope") is True, "the store scheme carries the scope (x-mock-scope)"
    for header in ("user_id", "user_token"):
        s = [s for s in c.schemes.values() if s.get("name") == header]
        assert s and s[0].get("x-mock-issued-by"), f"{header} is issued by the login (x-mock-issued-by)"


def test_lagerkoll_login_issues_user_id_and_user_token_and_lists_stores(lagerkoll):
    c = lagerkoll
    _path, _method, op, _ = one_op(c, "post", r"/v1/mobile/login/?")
    action = op.get("x-mock-action") or {}
    issued = {c.schemes[n]["name"] for n in action.get("issue") or {} if n in c.schemes}
    assert action.get("kind") == "issue-credential" and {"user_id", "user_token"} <= issued
    props = media_schema(c, op, first_success(responses(c.doc, op))).get("properties", {})
    assert {"user_id", "user_token"} <= set(props) or {"userId", "userToken"} <= set(props), sorted(props)
    assert any("store" in p.lower() for p in props), f"login response names no stores: {sorted(props)}"


def test_lagerkoll_error_envelope_fields(lagerkoll):
    c = lagerkoll
    found = error_schemas(c)
    assert found, "no JSON error responses"
    for label, s in found:
        props = s.get("properties", {})
        assert {"errorCode", "errorMessage", "errorField", "errorData"} <= set(props), f"{label}: {sorted(props)}"
        assert schema(c, props["errorCode"]).get("type") == "integer", f"{label}: errorCode is not an integer"
        assert nullable(schema(c, props["errorField"])) and nullable(schema(c, props["errorData"])), \
            f"{label}: errorField / errorData must allow null"
    for ptr in error_schema_ptrs(c):
        assert not errors_of(validator_at(c.registry, c.uri, ptr), SEED_ERROR), f"seed error body fails {ptr}"


def test_lagerkoll_error_codes_match_the_seed(lagerkoll):
    codes = lagerkoll.codes
    seed = {900001: (401, "Credentials don't match"), 900101: (400, "Common error"),
            900429: (429, "Too many requests"), 902101: (404, "Error when getting webhook")}
    for number, (status, message) in seed.items():
        entries = [e for e in codes.values() if e.get("code") == number and e.get("status") == status]
        assert any(e.get("message") == message for e in entries), f"{number}: no {status} code with {message!r}"
    assert codes["unauthorized"].get("code") == 900001 and codes["not_found"].get("code") == 902101


def test_lagerkoll_get_webhooks_for_feature_shape(lagerkoll):
    c = lagerkoll
    path, _method, op, _ = _webhook_ops(c)["get"]
    ptr = ref_pointer(c.doc, op["responses"]["200"], pointer("paths", path, "get", "responses", "200"))
    seed = {"webhooks": [{"featureMethod": "featureMethod", "guid": "guid", "id": 6586,
                          "featureId": "featureId", "url": "url"}]}
    s = media_schema(c, op, "200")
    item = schema(c, s["properties"]["webhooks"].get("items"))
    assert {"featureMethod", "guid", "id", "featureId", "url"} <= set(item.get("properties", {}))
    errors = errors_of(validator_at(c.registry, c.uri, ptr + pointer("content", "application/json", "schema")), seed)
    # the seed's literal strings ("guid", "url") may fail formats; its shape must not
    assert not [e for e in errors if "required" in e or "Additional" in e or "type" in e], errors


def test_lagerkoll_create_accepts_xml(lagerkoll):
    c = lagerkoll
    _path, _method, op, _ = _webhook_ops(c)["create"]
    body = resolve(c.doc, op["requestBody"])["content"]
    assert {"application/json", "application/xml"} <= set(body), f"create body media types {sorted(body)}"
    ok = responses(c.doc, op)[first_success(responses(c.doc, op))]
    assert {"application/json", "application/xml"} <= set(ok.get("content") or {}), "create response not JSON + XML"
    assert "application/xml" in c.errors.get("media-types", []) and c.errors.get("xml-root")


def test_lagerkoll_create_enable_for_group_defaults_false(lagerkoll):
    c = lagerkoll
    _path, _method, op, item = _webhook_ops(c)["create"]
    p = parameters(c.doc, op, item).get(("query", "enable_for_group"))
    assert p, "no query parameter enable_for_group"
    s = schema(c, p.get("schema"))
    assert s.get("type") == "boolean" and s.get("default") is False and not p.get("required")


def test_lagerkoll_execute_webhook_by_guid(lagerkoll):
    c = lagerkoll
    path, _method, op, _ = _webhook_ops(c)["execute"]
    action = op.get("x-mock-action") or {}
    assert action.get("match-field") == "guid" or "guid" in path, f"execute does not find by guid: {action}"


def test_lagerkoll_delete_webhook_json_or_xml(lagerkoll):
    c = lagerkoll
    _path, _method, op, _ = _webhook_ops(c)["delete"]
    for status, resp in responses(c.doc, op).items():
        content = set(resp.get("content") or {})
        if content:
            assert {"application/json", "application/xml"} <= content, f"DELETE {status}: {sorted(content)}"


def test_lagerkoll_webhook_fields_and_access(lagerkoll):
    c = lagerkoll
    _path, _method, op, _ = _webhook_ops(c)["get"]
    item = schema(c, media_schema(c, op, "200")["properties"]["webhooks"].get("items"))
    props = item["properties"]
    assert props["id"].get("type") == "integer" and props["id"].get("format") == "int64", "id is a Long"
    assert resolve(c.doc, item.get("properties", {})["id"]).get("readOnly") or props["id"].get("readOnly")
    assert props["guid"].get("readOnly") and props["guid"].get("type") == "string"
    for name in ("featureId", "featureMethod"):
        assert props[name].get("type") == "string" and not props[name].get("readOnly"), f"{name} is read/write"
    assert (c.resources.get("webhook") or {}).get("id", {}).get("format") == "long"


def test_lagerkoll_features_and_stores_endpoints(lagerkoll):
    c = lagerkoll
    one_op(c, "get", r"/v1/feature/?")
    _path, _method, op, _ = one_op(c, "get", r"/v1/stores/?")
    s = media_schema(c, op, "200")
    stores = s if s.get("type") == "array" else next(
        (v for k, v in s.get("properties", {}).items() if "store" in k.lower()), {})
    item = schema(c, stores.get("items"))
    assert {"storeId", "storeGroupId"} <= set(item.get("properties", {})), sorted(item.get("properties", {}))


def test_lagerkoll_callback_payload_fields(lagerkoll):
    """Public docs: callbacks carry {type, action, <ids>, storeId, storeGroupId, timestamp}."""
    c = lagerkoll
    bodies = []
    for _, _, op, _ in operations(c.doc, "webhooks"):
        for obj in (resolve(c.doc, op.get("requestBody") or {}).get("content") or {}).values():
            bodies += [v for v in examples_of(c, obj) if isinstance(v, dict)]
    assert bodies, "no webhooks-section example of a callback"
    want = {"type", "action", "storeId", "storeGroupId", "timestamp"}
    assert any(want <= set(b) and b["action"] in ("created", "updated", "deleted") for b in bodies), \
        f"no callback example with {sorted(want)}: {bodies}"


# ================================================================== iStockist


@pytest.fixture
def istockist(load) -> Contract:
    return load("istockist")


def test_istockist_uses_http_basic(istockist):
    c = istockist
    basic = {n for n, s in c.schemes.items() if s.get("type") == "http" and s.get("scheme", "").lower() == "basic"}
    assert basic and set(c.schemes) == basic, f"schemes: {c.schemes}"
    unsecured = [f"{m.upper()} {p}" for p, m, op, _ in operations(c.doc)
                 if not is_secured(c.doc, op) or not all(set(r) <= basic for r in security_of(c.doc, op))]
    assert not unsecured, f"not HTTP Basic: {unsecured}"


def test_istockist_real_server_is_https_only(istockist):
    real = [s["url"] for s in istockist.doc.get("servers") or [] if not s.get("x-mock-server")]
    assert real and all(u.startswith("https://") for u in real), real


def test_istockist_every_response_is_json(istockist):
    c = istockist
    assert c.errors.get("media-types") == ["application/json"]
    problems = []
    for path, method, op, _ in operations(c.doc):
        for status, resp in responses(c.doc, op).items():
            content = set(resp.get("content") or {})
            if content != {"application/json"}:
                problems.append(f"{method.upper()} {path} {status}: {sorted(content)}")
    assert not problems, "\n".join(problems)


def test_istockist_documents_its_status_codes(istockist):
    c = istockist
    every = {"400", "401", "429", "500", "502", "503", "504"}
    seen, problems = set(), []
    for path, method, op, _ in operations(c.doc):
        statuses = set(responses(c.doc, op))
        seen |= statuses
        if every - statuses:
            problems.append(f"{method.upper()} {path}: lacks {sorted(every - statuses)}")
        if "{" in path and "404" not in statuses:
            problems.append(f"{method.upper()} {path}: addresses an object but documents no 404")
    assert {"200", "402", "404", "409"} <= seen
    assert not problems, "\n".join(problems)


DECLINES = ("card_declined", "insufficient_funds", "expired_card", "incorrect_cvc", "processing_error")


def test_istockist_declines_are_402_with_a_decline_code(istockist):
    c = istockist
    magic = [(op, m) for _, _, op, _ in operations(c.doc) for m in op.get("x-mock-magic") or []]
    assert magic, "no x-mock-magic decline values"
    named = set()
    for op, m in magic:
        assert "402" in responses(c.doc, op), f"{op.get('operationId')} has declines but no 402"
        for value, code in m["values"].items():
            entry = c.codes.get(code) or {}
            assert entry.get("status") == 402 and entry.get("decline_code"), f"{value} -> {code}: {entry}"
            named.add(code)
        assert m.get("success"), "no documented succeeding card number"
    assert set(DECLINES) <= named, f"decline codes without a magic number: {sorted(set(DECLINES) - named)}"
    for label, s in error_schemas(c, "402"):
        inner = schema(c, s["properties"]["error"]).get("properties", {})
        assert "decline_code" in inner, f"{label}: no decline_code"


def test_istockist_posts_accept_idempotency_key(istockist):
    c = istockist
    idem = c.doc.get("x-mock-idempotency") or {}
    assert idem.get("header") == "Idempotency-Key" and "POST" in idem.get("methods", [])
    assert idem.get("ttl") == 86400, "keys expire after 24 h"
    for key in ("mismatch", "in-flight"):
        assert (c.codes.get(idem.get(key)) or {}).get("status") == 409, f"{key} is not a 409 code"
    posts = find_ops(c, "post")
    assert posts
    for path, method, op, item in posts:
        p = header_param(c, op, item, "Idempotency-Key")
        assert p and not p.get("required"), f"POST {path}: no optional Idempotency-Key header"
        assert schema(c, p.get("schema")).get("type") == "string"
        assert "409" in responses(c.doc, op), f"POST {path}: no 409 for a reused key"


def test_istockist_version_header_and_current_2021_03_15(istockist):
    c = istockist
    v = c.doc.get("x-mock-versions") or {}
    assert v.get("header") == "iStockist-Version" and v.get("current") == "2021-03-15"
    assert "2021-03-15" in v.get("known", []) and "principal." in str(v.get("default")), \
        "without the header the account's version applies"
    for path, method, op, item in operations(c.doc):
        p = header_param(c, op, item, "iStockist-Version")
        assert p and not p.get("required"), f"{method.upper()} {path}: no optional iStockist-Version header"
        ok = responses(c.doc, op)[first_success(responses(c.doc, op))]
        assert "istockist-version" in response_headers(c.doc, ok), f"{method.upper()} {path}: version not echoed"


def test_istockist_cors_supported(istockist):
    cors = istockist.doc.get("x-mock-cors") or {}
    assert cors.get("allow-origins"), "no x-mock-cors"
    allowed = {h.lower() for h in cors.get("allow-headers", [])}
    assert {"authorization", "content-type", "idempotency-key", "istockist-version"} <= allowed, sorted(allowed)


def test_istockist_error_body_shape(istockist):
    """Design: {"error": {"type", "code", "decline_code", "message", "param"}}."""
    c = istockist
    for label, s in error_schemas(c):
        inner = schema(c, s.get("properties", {}).get("error"))
        assert {"type", "code", "decline_code", "message", "param"} <= set(inner.get("properties", {})), label


def test_istockist_lists_are_cursor_lists(istockist):
    """Design: limit / starting_after / ending_before -> {object: list, data, has_more, url}."""
    c = istockist
    lists = [(p, m, op, item) for p, m, op, item in operations(c.doc)
             if (op.get("x-mock-action") or {}).get("kind") == "list"]
    assert lists
    for path, method, op, item in lists:
        params = {n for (w, n) in parameters(c.doc, op, item) if w == "query"}
        assert {"limit", "starting_after", "ending_before"} <= params, f"{path}: {sorted(params)}"
        props = media_schema(c, op, "200").get("properties", {})
        assert {"object", "data", "has_more", "url"} <= set(props), f"{path}: {sorted(props)}"


# ================================================================== Ping Network


@pytest.fixture
def pingnetwork(load) -> Contract:
    return load("pingnetwork")


def _full_paths(c: Contract) -> dict[str, tuple[str, str, dict, dict]]:
    """Route (server path prefix + path) -> operation, on the real servers."""
    out = {}
    for path, method, op, item in operations(c.doc):
        for url in real_urls(c, path, item, op):
            out[f"{method} " + re.sub(r"^https?://[^/]+", "", url)] = (path, method, op, item)
    return out


def _ping_route(c: Contract, method: str, version: str, rest: str) -> tuple[str, str, dict, dict] | None:
    for route, found in _full_paths(c).items():
        if re.fullmatch(rf"{method} /customer/{version}{rest}", route):
            return found
    return None


def test_pingnetwork_authorization_header_token(pingnetwork):
    c = pingnetwork
    for path, method, op, _ in operations(c.doc):
        reqs = security_of(c.doc, op)
        assert reqs and all(r for r in reqs), f"{method.upper()} {path}: not secured"
        for r in reqs:
            for name in r:
                s = c.schemes[name]
                assert (s.get("type") == "apiKey" and s.get("in") == "header" and s.get("name") == "Authorization") \
                    or (s.get("type") == "http" and s.get("scheme", "").lower() == "bearer"), f"{name}: {s}"


def test_pingnetwork_has_v1_and_v2_routes(pingnetwork):
    routes = _full_paths(pingnetwork)
    for version in ("v1", "v2"):
        assert any(r.split(" ", 1)[1].startswith(f"/customer/{version}/") for r in routes), f"no /customer/{version}"
    unversioned = [r for r in routes if not re.match(r"^\w+ /customer/v\d+/", r)]
    assert not unversioned, f"routes without a version prefix: {unversioned}"


def test_pingnetwork_declares_x_ratelimit_headers(pingnetwork):
    c = pingnetwork
    sent = {h for p in c.policies for h in (p.get("headers") or {}).values()}
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= sent, sent
    for path, method, op, _ in operations(c.doc):
        if not c.policies_covering(op):
            continue
        for status, resp in responses(c.doc, op).items():
            if status.startswith("2") or status == "429":
                hs = set(response_headers(c.doc, resp))
                assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= hs, \
                    f"{method.upper()} {path} {status}: {sorted(hs)}"


def test_pingnetwork_errors_are_json_with_code_message_details(pingnetwork):
    c = pingnetwork
    assert c.errors.get("media-types") == ["application/json"]
    found = error_schemas(c)
    assert found
    for label, s in found:
        inner = schema(c, s.get("properties", {}).get("error"))
        assert {"code", "message", "details"} <= set(inner.get("properties", {})), label
    seen = {st for _, _, op, _ in operations(c.doc) for st in responses(c.doc, op)}
    assert {"400", "401", "404", "429", "500"} <= seen


def test_pingnetwork_zones_sessions_events_limits_routes(pingnetwork):
    c = pingnetwork
    for version in ("v1", "v2"):
        for method, rest in (("get", "/zones"), ("post", "/sessions"), ("get", r"/sessions/\{[^}]+\}/status"),
                             ("get", "/sessions/events")):
            assert _ping_route(c, method, version, rest), f"no {method.upper()} /customer/{version}{rest}"
        for kind in ("global", "client", "session"):
            for method in ("get", "delete"):
                assert _ping_route(c, method, version, rf"/.*limits.*{kind}.*"), \
                    f"{version}: no {method} {kind} limits"
            assert _ping_route(c, "(put|patch)", version, rf"/.*limits.*{kind}.*"), \
                f"{version}: no update {kind} limits"


def test_pingnetwork_session_create_fields_and_v2_additions(pingnetwork):
    c = pingnetwork
    v1 = _ping_route(c, "post", "v1", "/sessions")
    v2 = _ping_route(c, "post", "v2", "/sessions")
    assert v1 and v2
    b1, b2 = body_schema(c, v1[2]), body_schema(c, v2[2])
    for b in (b1, b2):
        assert {"client_id", "connection_type", "zone"} <= set(b.get("required", []))
    assert "reusable" in b2["properties"] and "reusable" not in b1["properties"]
    r1 = media_schema(c, v1[2], first_success(responses(c.doc, v1[2])))
    r2 = media_schema(c, v2[2], first_success(responses(c.doc, v2[2])))
    assert r1.get("additionalProperties") is False, "v1 session must be closed so v2 fields never show"
    assert "reusable" not in r1["properties"] and "reusable" in r2["properties"]
    assert any("config" in k for k in r2["properties"]), "v2 adds a configuration link"
    assert not any("link" in k for k in r1["properties"]), "v1 shows a v2-only link"


def test_pingnetwork_pause_and_resume_are_v2_only(pingnetwork):
    c = pingnetwork
    for word in ("pause", "resume"):
        assert _ping_route(c, r"\w+", "v2", rf"/sessions/\{{[^}}]+\}}/{word}"), f"no v2 {word}"
        assert not _ping_route(c, r"\w+", "v1", rf"/.*{word}.*"), f"v1 has {word}"


def test_pingnetwork_session_events_stream_is_sse(pingnetwork):
    c = pingnetwork
    for version in ("v1", "v2"):
        found = _ping_route(c, "get", version, "/sessions/events")
        assert found
        ok = responses(c.doc, found[2])["200"]
        assert "text/event-stream" in (ok.get("content") or {}), f"{version}: events are not text/event-stream"
        named = ok["content"]["text/event-stream"].get("examples", {}).values()
        text = str(ok) + str([resolve(c.doc, e) for e in named])
        text += str(c.doc.get("components", {}).get("schemas", {}))
        for event in ("session_start", "session_heartbeat", "session_end"):
            assert event in text, f"{version}: {event} not declared"


# ================================================================== Plggr


@pytest.fixture
def plggr(load) -> Contract:
    return load("plggr")


TOKEN_URL = "https://plggr1.eu.auth0.com/oauth/token"


def _token_op(c: Contract) -> tuple[str, str, dict, dict]:
    ops = [(p, m, op, item) for p, m, op, item in operations(c.doc)
           if (op.get("x-mock-action") or {}).get("kind") == "issue-credential"]
    assert ops, "no token endpoint operation (issue-credential)"
    return ops[0]


def test_plggr_oauth_token_url(plggr):
    c = plggr
    oauth = [s for s in c.schemes.values() if s.get("type") == "oauth2"]
    assert oauth, "no oauth2 security scheme"
    assert oauth[0]["flows"]["clientCredentials"]["tokenUrl"] == TOKEN_URL
    path, method, op, item = _token_op(c)
    assert method == "post" and TOKEN_URL in real_urls(c, path, item, op), real_urls(c, path, item, op)


def test_plggr_token_response_expires_in_86400(plggr):
    c = plggr
    _path, _method, op, _ = _token_op(c)
    action = op["x-mock-action"]
    assert action.get("ttl") == 86400, "the token is valid 24 hours on the mock clock"
    rendered = {k: (86400 if v == "{ttl}" else v) for k, v in (action.get("response") or {}).items()}
    assert rendered.get("expires_in") == 86400 and rendered.get("token_type") == "Bearer", action.get("response")
    ok = responses(c.doc, op)["200"]
    values = [v for obj in ok["content"].values() for v in examples_of(c, obj)]
    assert values and all(v.get("expires_in") == 86400 for v in values), values
    req = body_schema(c, op)
    assert {"client_id", "client_secret"} <= set(req.get("required", []))
    assert schema(c, req["properties"]["grant_type"]).get("enum") == ["client_credentials"]


def test_plggr_bearer_on_every_call(plggr):
    c = plggr
    _token_path, _, token_op, _ = _token_op(c)
    oauth = {n for n, s in c.schemes.items() if s.get("type") == "oauth2"
             or (s.get("type") == "http" and s.get("scheme", "").lower() == "bearer")}
    for path, method, op, _ in operations(c.doc):
        if op is token_op:
            assert not is_secured(c.doc, op), "the token endpoint takes client credentials, not a token"
            continue
        reqs = security_of(c.doc, op)
        assert reqs and all(r and set(r) <= oauth for r in reqs), f"{method.upper()} {path}: {reqs}"


def test_plggr_documents_400_401_403_404(plggr):
    c = plggr
    problems = []
    token = _token_op(c)[2]
    for path, method, op, item in operations(c.doc):
        if op is token:
            continue
        statuses = set(responses(c.doc, op))
        need = {"400", "401"}
        if "{companyId}" in path:
            need.add("403")
        if re.search(r"\{\w+\}$", path):
            need.add("404")
        if need - statuses:
            problems.append(f"{method.upper()} {path}: lacks {sorted(need - statuses)}")
    assert not problems, "\n".join(problems)


def test_plggr_company_scope_and_403_for_other_tenants(plggr):
    c = plggr
    tenancy = c.doc.get("x-mock-tenancy") or {}
    assert tenancy.get("scope", {}).get("in") == "path"
    assert (c.codes.get(tenancy.get("mismatch")) or {}).get("status") == 403


def test_plggr_contexts_products_customers_orders(plggr):
    c = plggr
    for context in ("products", "customers", "orders"):
        assert find_ops(c, "get", rf".*/{context}"), f"no list of {context}"
        assert find_ops(c, "post", rf".*/{context}"), f"no create of {context}"


def test_plggr_three_limit_policies(plggr):
    """Fact: rate limits, usage quotas per period, concurrent connections (three policies)."""
    c = plggr
    algos = {p.get("algorithm"): p for p in c.policies}
    assert "concurrency" in algos, "no concurrent-connections policy"
    windows = sorted(p.get("window", 0) for p in c.policies if p.get("algorithm") != "concurrency")
    assert len(windows) >= 2 and windows[-1] >= 86400, f"no rate limit + daily quota: windows {windows}"
    errors = [p.get("error") for p in c.policies]
    assert len(set(errors)) == len(errors) == len(c.policies), f"errors not distinct: {errors}"
    assert all((c.codes.get(e) or {}).get("status") == 429 for e in errors)
