"""Every contract: valid OpenAPI 3.1, examples true to their schemas, operations complete."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from contractkit import (
    JSON_MEDIA,
    XML_MEDIA,
    errors_of,
    examples,
    first_success,
    is_error_status,
    is_secured,
    lookup,
    media_content,
    op_label,
    operation_ids,
    operations,
    parameters,
    pointer,
    ref_pointer,
    resolve,
    response_headers,
    responses,
    validator_at,
)
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError


def test_is_valid_openapi_3_1(load, contract_name):
    c = load(contract_name)
    assert str(c.doc.get("openapi", "")).startswith("3.1."), "openapi must be 3.1.x"
    try:
        validate(c.doc, base_uri=c.uri, cls=OpenAPIV31SpecValidator)
    except OpenAPIValidationError as e:
        where = pointer(*getattr(e, "absolute_path", []))
        raise AssertionError(f"{c.path.name}: {where}: {str(e.message).splitlines()[0]}") from None


def test_examples_validate_against_their_schemas(load, contract_name):
    c = load(contract_name)
    problems, checked = [], 0
    for schema_ptr, example_ptr, value, media in examples(c.doc):
        if XML_MEDIA.match(media) and isinstance(value, str):
            problems += [f"{example_ptr}: {p}" for p in _xml_problems(c, schema_ptr, value)]
            continue
        if media and not JSON_MEDIA.match(media) and isinstance(value, str):
            continue  # a serialized text example of a structured schema
        checked += 1
        for err in errors_of(validator_at(c.registry, c.uri, schema_ptr), value):
            problems.append(f"{example_ptr} (schema {schema_ptr}): {err}")
    assert checked, "the contract has no examples"
    assert not problems, "examples not valid against their schemas:\n" + "\n".join(problems)


def _xml_problems(c, schema_ptr: str, text: str) -> list[str]:
    """An XML example is well formed, named as its schema says, with the schema's elements."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as e:
        return [f"not well-formed XML: {e}"]
    schema = resolve(c.doc, lookup(c.doc, schema_ptr))
    if schema.get("type") != "object":
        return []
    name = (schema.get("xml") or {}).get("name")
    problems = [f"root element <{root.tag}>, schema xml.name is {name!r}"] if name and root.tag != name else []
    props = schema.get("properties") or {}
    names = {(resolve(c.doc, v).get("xml") or {}).get("name", k): k for k, v in props.items()}
    children = {child.tag for child in root}
    if schema.get("additionalProperties") is False:
        problems += [f"element <{t}> is not a property" for t in sorted(children - set(names))]
    missing = {n for n, k in names.items() if k in (schema.get("required") or [])} - children
    problems += [f"required element <{t}> missing" for t in sorted(missing)]
    return problems


def test_every_operation_has_operation_id_and_summary(load, contract_name):
    c = load(contract_name)
    problems, seen = [], {}
    for section in ("paths", "webhooks"):
        for path, method, op, _ in operations(c.doc, section):
            label = f"{section}: {method.upper()} {path}"
            if not op.get("operationId"):
                problems.append(f"{label}: no operationId")
            elif op["operationId"] in seen:
                problems.append(f"{label}: operationId {op['operationId']} also on {seen[op['operationId']]}")
            else:
                seen[op["operationId"]] = label
            if not str(op.get("summary", "")).strip():
                problems.append(f"{label}: no summary")
    assert not problems, "\n".join(problems)


def test_every_parameter_is_typed(load, contract_name):
    c = load(contract_name)
    problems = []
    for path, method, op, item in operations(c.doc):
        for (where, name), p in parameters(c.doc, op, item).items():
            schema = resolve(c.doc, p.get("schema"))
            if "content" in p:
                continue
            if not isinstance(schema, dict) or not any(k in schema for k in ("type", "enum", "const",
                                                                              "oneOf", "anyOf", "allOf")):
                problems.append(f"{op_label(method, path, op)}: {where} parameter {name} has no typed schema")
    assert not problems, "\n".join(problems)


def test_every_response_body_has_a_named_example(load, contract_name):
    c = load(contract_name)
    problems = []
    for section in ("paths", "webhooks"):
        for path, method, op, _ in operations(c.doc, section):
            for status, resp in responses(c.doc, op).items():
                for media, obj in (resp.get("content") or {}).items():
                    if not obj.get("examples"):
                        problems.append(f"{op_label(method, path, op)} {status} {media}: no named example")
    assert not problems, "\n".join(problems)


def test_every_content_has_a_schema(load, contract_name):
    c = load(contract_name)
    missing = [ptr for ptr, _, obj in media_content(c.doc) if "schema" not in (obj or {})]
    assert not missing, "media types without a schema:\n" + "\n".join(missing)


def test_secured_operations_document_401_in_error_format(load, contract_name):
    c = load(contract_name)
    media_types = c.errors.get("media-types")
    assert media_types is not None, "x-mock-errors.media-types is missing"
    unauthorized = c.codes.get("unauthorized")
    assert unauthorized, "x-mock-errors.codes.unauthorized is missing"
    problems = []
    for path, method, op, _ in operations(c.doc):
        if not is_secured(c.doc, op):
            continue
        label = op_label(method, path, op)
        resp = responses(c.doc, op).get("401")
        if resp is None:
            problems.append(f"{label}: secured but documents no 401")
            continue
        content = resp.get("content") or {}
        if not media_types:
            if content:
                problems.append(f"{label}: 401 has content, but this API's errors carry no body")
            continue
        if not content:
            problems.append(f"{label}: 401 has no content")
        extra = set(content) - set(media_types)
        if extra:
            problems.append(f"{label}: 401 media types {sorted(extra)} are not in x-mock-errors.media-types")
        if media_types[0] not in content:
            problems.append(f"{label}: 401 lacks the primary error media type {media_types[0]}")
        body = c.error_body("unauthorized", c.template_name(op, unauthorized))
        for media, obj in content.items():
            if JSON_MEDIA.match(media) and "schema" in obj:
                ptr = _content_schema_ptr(c, path, method, "401", media)
                for err in errors_of(validator_at(c.registry, c.uri, ptr), body):
                    problems.append(f"{label}: rendered unauthorized error {body!r} is not a valid 401 body: {err}")
    assert not problems, "\n".join(problems)


def _content_schema_ptr(c, path: str, method: str, status: str, media: str) -> str:
    ptr = pointer("paths", path, method, "responses", status)
    ptr = ref_pointer(c.doc, resolve(c.doc, c.doc["paths"][path])[method]["responses"][status], ptr)
    return f"{ptr}{pointer('content', media, 'schema')}"


def test_rate_limited_operations_document_429_with_retry_after(load, contract_name):
    c = load(contract_name)
    problems = []
    for path, method, op, _ in operations(c.doc):
        policies = c.policies_covering(op)
        if not policies:
            continue
        label = op_label(method, path, op)
        resp = responses(c.doc, op).get("429")
        if resp is None:
            problems.append(f"{label}: rate limited by {[p['name'] for p in policies]} but documents no 429")
            continue
        headers = response_headers(c.doc, resp)
        if "retry-after" not in headers:
            problems.append(f"{label}: 429 does not declare Retry-After")
        elif not any(p.get("retry-after") for p in policies):
            problems.append(f"{label}: 429 declares Retry-After but no covering policy sets retry-after: true")
    assert not problems, "\n".join(problems)


def test_rate_limited_operations_declare_policy_headers(load, contract_name):
    """Every limited response (2xx and the 429) declares the headers of the policies covering it."""
    c = load(contract_name)
    problems = []
    for path, method, op, _ in operations(c.doc):
        wanted = {h.lower() for p in c.policies_covering(op) for h in (p.get("headers") or {}).values()}
        if not wanted:
            continue
        for status, resp in responses(c.doc, op).items():
            if status.startswith("2") or status == "429":
                missing = wanted - set(response_headers(c.doc, resp))
                if missing:
                    problems.append(f"{op_label(method, path, op)} {status}: missing headers {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_operations_with_a_body_document_415(load, contract_name):
    c = load(contract_name)
    problems = [op_label(method, path, op) for path, method, op, _ in operations(c.doc)
                if "requestBody" in op and "415" not in responses(c.doc, op)]
    assert not problems, "operations taking a body without 415:\n" + "\n".join(problems)


def test_error_responses_use_the_error_media_types(load, contract_name):
    c = load(contract_name)
    media_types = set(c.errors.get("media-types") or [])
    problems = []
    for path, method, op, _ in operations(c.doc):
        for status, resp in responses(c.doc, op).items():
            if not is_error_status(status):
                continue
            content = set(resp.get("content") or {})
            if not media_types and content:
                problems.append(f"{op_label(method, path, op)} {status}: has content {sorted(content)}; "
                                "this API's errors carry no body")
            elif media_types and not content:
                problems.append(f"{op_label(method, path, op)} {status}: no content")
            elif content - media_types:
                problems.append(f"{op_label(method, path, op)} {status}: media types "
                                f"{sorted(content - media_types)} not in x-mock-errors.media-types")
    assert not problems, "\n".join(problems)


def test_every_create_operation_has_links(load, contract_name):
    """Links from each create to the operations that read, change or delete what it created."""
    c = load(contract_name)
    by_id = operation_ids(c.doc)
    actions = {oid: op.get("x-mock-action") or {} for oid, (_, _, op, _) in by_id.items()}
    creates = [(oid, by_id[oid]) for oid, a in actions.items() if a.get("kind") == "create"
               or (a.get("kind") == "handler" and by_id[oid][1] == "post" and a.get("resource")
                   and "id-param" not in a)]
    problems = []
    for oid, (path, method, op, _) in creates:
        resource = actions[oid].get("resource")
        targets = {t: a["kind"] for t, a in actions.items() if a.get("resource") == resource
                   and (a.get("kind") in ("get", "update", "delete", "transition")
                        or (a.get("kind") == "handler" and "id-param" in a))}
        resps = responses(c.doc, op)
        ok = first_success(resps)
        links = {name: resolve(c.doc, link) for name, link in ((resps.get(ok) or {}).get("links") or {}).items()}
        linked = set()
        for name, link in links.items():
            target = link.get("operationId")
            if target not in by_id:
                problems.append(f"{oid}: link {name} names unknown operationId {target!r}")
                continue
            linked.add(target)
            _tpath, _tmethod, top, titem = by_id[target]
            needed = {n for (where, n), p in parameters(c.doc, top, titem).items() if where == "path"}
            given = {re.sub(r"^(path|query|header|cookie)\.", "", k) for k in link.get("parameters") or {}}
            if needed - given:
                problems.append(f"{oid}: link {name} to {target} does not set path parameters "
                                f"{sorted(needed - given)}")
        for kind in sorted(set(targets.values())):
            if not any(targets.get(t) == kind for t in linked):
                options = sorted(t for t, k in targets.items() if k == kind)
                problems.append(f"{oid} ({resource}): no link to a {kind} operation ({', '.join(options)})")
    assert not problems, "\n".join(problems)


def test_has_real_and_mock_servers(load, contract_name):
    c = load(contract_name)
    servers = list(c.doc.get("servers") or [])
    for item in (c.doc.get("paths") or {}).values():
        servers += resolve(c.doc, item).get("servers") or []
    ports = {str(listener.get("port")) for listener in
             ((c.doc.get("x-mock-api") or {}).get("listeners") or {}).values()}
    mocks = [s for s in servers if s.get("x-mock-server")]
    real = [s for s in servers if not s.get("x-mock-server")]
    assert real and any(s["url"].startswith("https://") for s in real), "no https server for the real host"
    assert mocks, "no servers entry marked x-mock-server: true"
    for s in mocks:
        m = re.match(r"^http://(localhost|127\.0\.0\.1):(\d+)(/.*)?$", s["url"])
        assert m, f"mock server {s['url']} is not http://localhost:<port>[/prefix]"
        assert m.group(2) in ports, f"mock server {s['url']}: port is not one of x-mock-api listeners {sorted(ports)}"
