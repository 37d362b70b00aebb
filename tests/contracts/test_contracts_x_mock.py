"""The x-mock-* vocabulary: documented, valid against x-mock.schema.yaml, consistent, and
the fixtures that seed each API."""

from __future__ import annotations

import re

import yaml
from contractkit import (
    FIXTURES,
    JSON_MEDIA,
    README,
    allowed_placements,
    contract_names,
    documented_extensions,
    errors_of,
    is_error_status,
    lookup,
    operation_ids,
    operations,
    parameters,
    placeholders,
    placement,
    pointer,
    ref_pointer,
    resolve,
    responses,
    validator_at,
    x_mock_keys,
)

ENGINE_CODES = ("unauthorized", "forbidden", "not_found", "invalid_request", "method_not_allowed",
                "unsupported_media_type", "not_acceptable", "conflict", "rate_limited",
                "server_error", "unavailable")


# ------------------------------------------------------------------ the schema file itself


def test_x_mock_schema_covers_every_documented_extension(x_mock_schema):
    documented = set(documented_extensions())
    assert len(documented) >= 16, f"README extension table parsed badly: {sorted(documented)}"
    defs = set(x_mock_schema["$defs"])
    assert documented <= defs, f"no $defs entry for {sorted(documented - defs)}"
    undocumented = {d for d in defs if d.startswith("x-mock-")} - documented
    assert not undocumented, f"$defs for extensions README does not document: {sorted(undocumented)}"
    assert "fixtures" in defs


def _readme_chunks(text: str):
    """Top-level YAML chunks of the README's ```yaml blocks (one key each, parsed alone)."""
    for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL):
        chunk: list[str] = []
        for line in block.splitlines() + ["<end>:"]:
            if re.match(r"^[A-Za-z<]", line) and chunk:
                try:
                    yield yaml.safe_load("\n".join(chunk))
                except yaml.YAMLError:
                    pass
                chunk = []
            chunk.append(line)


def test_readme_examples_validate_against_x_mock_schema(x_mock_validator):
    seen, problems = set(), []
    for chunk in _readme_chunks(README.read_text(encoding="utf-8")):
        for tokens, key, value in x_mock_keys(chunk):
            seen.add(key)
            for err in errors_of(x_mock_validator(key), value):
                problems.append(f"README {key} at {tokens}: {err}")
    assert not problems, "\n".join(problems)
    without_example = {"x-mock-event", "x-mock-error-template"}  # shown inline only
    missing = set(documented_extensions()) - without_example - seen
    assert not missing, f"README examples not found for {sorted(missing)}"


def test_fixtures_readme_example_validates(x_mock_validator):
    text = (FIXTURES / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, flags=re.DOTALL).group(1)
    block = block.replace(", ...}", "}")
    assert not errors_of(x_mock_validator("fixtures"), yaml.safe_load(block))


def test_x_mock_schema_rejects_typos(x_mock_validator):
    """The schema must be strict enough to fail the usual slips."""
    bad = {
        "x-mock-action": [{"kind": "crate", "resource": "order"}, {"kind": "get", "resource": "order"},
                          {"kind": "list", "resource": "a", "paginaton": {"style": "cursor", "limit": "limit"}},
                          {"kind": "get", "resource": "a", "id-param": "id", "to": "paused"}],
        "x-mock-rate-limits": [[{"name": "a", "algorithm": "sliding", "limit": 1, "key": ["x"], "applies-to": "all"}],
                               [{"name": "a", "algorithm": "leaky", "limit": 1, "window": 1, "key": ["x"],
                                 "applies-to": "all"}]],
        "x-mock-resources": [{"order": {"schema": "#/a", "id": {"field": "id", "format": "uuid4"}}}],
        "x-mock-tenancy": [{"scope": {"in": "body", "name": "x"}}, {"scope": {"in": "path"}}],
        "x-mock-errors": [{"media-types": ["application/json"], "codes": {}}],
        "x-mock-webhooks": [{"signature": {"header": "X", "algorithm": "md5", "secret": "{s}"}}],
    }
    accepted = [(name, v) for name, values in bad.items() for v in values
                if not list(x_mock_validator(name).iter_errors(v))]
    assert not accepted, f"schema accepts: {accepted}"


# ------------------------------------------------------------------ per contract


def test_x_mock_keys_are_documented_and_placed(load, contract_name):
    c = load(contract_name)
    documented = documented_extensions()
    problems = []
    for tokens, key, _ in x_mock_keys(c.doc):
        where = pointer(*tokens) or "/"
        if key not in documented:
            problems.append(f"{where}: {key} is not documented in contracts/README.md")
        elif placement(tokens) not in allowed_placements(documented[key]):
            problems.append(f"{where}: {key} belongs on {documented[key]}, found on {placement(tokens)}")
    assert not problems, "\n".join(problems)


def test_x_mock_values_validate_against_schema(load, contract_name, x_mock_validator):
    c = load(contract_name)
    documented = documented_extensions()
    problems = []
    for tokens, key, value in x_mock_keys(c.doc):
        if key in documented:
            for err in errors_of(x_mock_validator(key), value):
                problems.append(f"{pointer(*tokens, key)}: {err}")
    assert not problems, "\n".join(problems)


def test_x_mock_api_matches_readme_table(load, contract_name):
    c = load(contract_name)
    api = c.doc.get("x-mock-api")
    assert api, "no x-mock-api at the root"
    assert api.get("name") == contract_name, f"x-mock-api.name {api.get('name')!r} != file name {contract_name!r}"
    row = re.search(rf"^\|\s*`{re.escape(contract_name)}\.yaml`\s*\|[^|]*\|\s*([^|]+)\|",
                    README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    if row:
        readme_ports = {int(p) for p in re.findall(r"\d{4,5}", row.group(1))}
        ports = {listener.get("port") for listener in (api.get("listeners") or {}).values()}
        assert ports == readme_ports, f"listener ports {sorted(ports)} != README table {sorted(readme_ports)}"


def test_every_operation_is_served_by_a_listener(load, contract_name):
    c = load(contract_name)
    listeners = ((c.doc.get("x-mock-api") or {}).get("listeners") or {}).values()
    served_tags = [set(listener.get("tags") or []) for listener in listeners]
    problems = []
    for path, method, op, _ in operations(c.doc):
        if not any(not tags or tags & set(op.get("tags") or []) for tags in served_tags):
            problems.append(f"{method.upper()} {path}: tags {op.get('tags')} match no listener")
    used = {t for _, _, op, _ in operations(c.doc) for t in op.get("tags") or []}
    used |= {t for _, _, op, _ in operations(c.doc, "webhooks") for t in op.get("tags") or []}
    for name, listener in ((c.doc.get("x-mock-api") or {}).get("listeners") or {}).items():
        for tag in set(listener.get("tags") or []) - used:
            problems.append(f"listener {name}: tag {tag!r} is on no operation")
    assert not problems, "\n".join(problems)


def _code_refs(c):
    """(where, code key) of every place that names an error code."""
    refs = []
    tenancy = c.doc.get("x-mock-tenancy") or {}
    if "mismatch" in tenancy:
        refs.append(("x-mock-tenancy.mismatch", tenancy["mismatch"]))
    for name, res in c.resources.items():
        if "invalid" in (res.get("lifecycle") or {}):
            refs.append((f"x-mock-resources.{name}.lifecycle.invalid", res["lifecycle"]["invalid"]))
    for policy in c.policies:
        if "error" in policy:
            refs.append((f"x-mock-rate-limits {policy.get('name')}.error", policy["error"]))
    for key in ("mismatch", "in-flight"):
        if key in (c.doc.get("x-mock-idempotency") or {}):
            refs.append((f"x-mock-idempotency.{key}", c.doc["x-mock-idempotency"][key]))
    if "unknown" in (c.doc.get("x-mock-versions") or {}):
        refs.append(("x-mock-versions.unknown", c.doc["x-mock-versions"]["unknown"]))
    for section in ("paths", "webhooks"):
        for path, method, op, _ in operations(c.doc, section):
            action = op.get("x-mock-action") or {}
            if "error" in action:
                refs.append((f"{method.upper()} {path} x-mock-action.error", action["error"]))
            for i, magic in enumerate(op.get("x-mock-magic") or []):
                for value, code in (magic.get("values") or {}).items():
                    refs.append((f"{method.upper()} {path} x-mock-magic[{i}] {value}", code))
    return refs


def test_error_codes_are_complete_and_referenced_codes_exist(load, contract_name):
    c = load(contract_name)
    codes = c.codes
    problems = [f"x-mock-errors.codes lacks engine kind {k}" for k in ENGINE_CODES if k not in codes]
    for where, code in _code_refs(c):
        if str(code) not in codes and not re.fullmatch(r"[45]\d\d", str(code)):
            problems.append(f"{where}: error code {code!r} is not in x-mock-errors.codes")
    templates = c.errors.get("templates") or {}
    for key, code in codes.items():
        if code.get("template") and code["template"] not in templates:
            problems.append(f"codes.{key}.template {code['template']!r} is not a template")
    for path, method, op, _ in operations(c.doc):
        name = op.get("x-mock-error-template")
        if name and name not in templates:
            problems.append(f"{method.upper()} {path}: x-mock-error-template {name!r} is not a template")
    expected = {"unauthorized": 401, "forbidden": 403, "not_found": 404, "invalid_request": 400,
                "method_not_allowed": 405, "unsupported_media_type": 415, "not_acceptable": 406,
                "conflict": 409, "rate_limited": 429, "server_error": 500, "unavailable": 503}
    for key, status in expected.items():
        if key in codes and codes[key].get("status") != status:
            problems.append(f"codes.{key}.status is {codes[key].get('status')}, expected {status}")
    assert not problems, "\n".join(problems)


def test_error_codes_render_to_documented_error_schema(load, contract_name):
    """Each code, rendered through its template, is a valid body of the documented error responses."""
    c = load(contract_name)
    if not c.errors.get("media-types"):
        return  # errors carry no body; test_error_responses_use_the_error_media_types covers it
    # (schema pointer, operation) of every JSON error response, by status
    documented: dict[int, list[tuple[str, dict]]] = {}
    for path, method, op, _ in operations(c.doc):
        for status, resp in (op.get("responses") or {}).items():
            status = str(status)
            if not is_error_status(status) or not status.isdigit():
                continue
            resp_ptr = ref_pointer(c.doc, resp, pointer("paths", path, method, "responses", status))
            for media in (resolve(c.doc, resp).get("content") or {}):
                if JSON_MEDIA.match(media):
                    ptr = f"{resp_ptr}{pointer('content', media, 'schema')}"
                    documented.setdefault(int(status), []).append((ptr, op))
    assert documented, "no JSON error responses documented"
    op_templates = {op.get("x-mock-error-template") for _, _, op, _ in operations(c.doc)} - {None}
    problems = []
    for key, code in c.codes.items():
        targets = documented.get(code.get("status"))
        if not targets:  # a status no operation documents: hold it to every default-format error schema
            targets = [(ptr, op) for entries in documented.values() for ptr, op in entries
                       if c.template_name(op, code) == c.template_name(None, code)]
        checked = set()
        for ptr, op in targets:
            template = c.template_name(op, code)
            if code.get("template") in op_templates and not op.get("x-mock-error-template"):
                continue  # a code of an operation-scoped format (e.g. a token endpoint's) elsewhere
            if (ptr, template) in checked:
                continue
            checked.add((ptr, template))
            if template not in (c.errors.get("templates") or {}):
                problems.append(f"code {key}: template {template!r} does not exist")
                continue
            for field_value in (None, "/example/field"):
                body = c.error_body(key, template, field_value)
                for err in errors_of(validator_at(c.registry, c.uri, ptr), body):
                    problems.append(f"code {key} ({template}, field={field_value!r}) -> {body!r} "
                                    f"is not valid against {ptr}: {err}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_actions_reference_what_exists(load, contract_name):
    c = load(contract_name)
    by_id = operation_ids(c.doc)
    problems = []
    for section in ("paths", "webhooks"):
        for path, method, op, item in operations(c.doc, section):
            action = op.get("x-mock-action")
            if not action:
                continue
            label = f"{method.upper()} {path}"
            if action.get("resource") and action["resource"] not in c.resources:
                problems.append(f"{label}: resource {action['resource']!r} is not in x-mock-resources")
            path_params = {n for (where, n) in parameters(c.doc, op, item) if where == "path"}
            if action.get("id-param") and action["id-param"] not in path_params:
                problems.append(f"{label}: id-param {action['id-param']!r} is not a path parameter "
                                f"{sorted(path_params)}")
            for scheme in action.get("issue") or {}:
                if scheme not in c.schemes:
                    problems.append(f"{label}: issue names unknown security scheme {scheme!r}")
            lifecycle = (c.resources.get(action.get("resource")) or {}).get("lifecycle") or {}
            if action.get("kind") == "transition":
                states = set(lifecycle.get("transitions") or {}) | {
                    s for targets in (lifecycle.get("transitions") or {}).values() for s in targets}
                if action.get("to") not in states:
                    problems.append(f"{label}: transition to {action.get('to')!r} is not a lifecycle state")
            if action.get("kind") in ("create", "update") and "requestBody" not in op:
                problems.append(f"{label}: {action['kind']} takes no requestBody")
            if not any(r.startswith("2") for r in responses(c.doc, op)):
                problems.append(f"{label}: action on an operation with no 2xx response")
    for name, scheme in c.schemes.items():
        issuer = scheme.get("x-mock-issued-by")
        if issuer is None:
            continue
        if issuer not in by_id:
            problems.append(f"securityScheme {name}: x-mock-issued-by {issuer!r} is no operationId")
            continue
        action = by_id[issuer][2].get("x-mock-action") or {}
        if action.get("kind") != "issue-credential" or name not in (action.get("issue") or {}):
            problems.append(f"securityScheme {name}: {issuer} does not issue-credential {name}")
    for _, _, op, _ in operations(c.doc):
        issued = (op.get("x-mock-action") or {}).get("issue") or {}
        for name in issued:
            if name in c.schemes and c.schemes[name].get("type") == "apiKey" \
                    and c.schemes[name].get("x-mock-issued-by") != op.get("operationId"):
                problems.append(f"{op.get('operationId')} issues apiKey scheme {name} without x-mock-issued-by")
    assert not problems, "\n".join(problems)


def test_rate_limit_targets_exist(load, contract_name):
    c = load(contract_name)
    by_id = operation_ids(c.doc)
    tags = {t for _, _, op, _ in operations(c.doc) for t in op.get("tags") or []}
    problems = []
    names = [p.get("name") for p in c.policies]
    if len(names) != len(set(names)):
        problems.append(f"policy names repeat: {names}")
    for policy in c.policies:
        target = policy.get("applies-to")
        if isinstance(target, dict):
            for tag in set(target.get("tags") or []) - tags:
                problems.append(f"policy {policy.get('name')}: tag {tag!r} is on no operation")
            for oid in target.get("operations") or []:
                if oid not in by_id:
                    problems.append(f"policy {policy.get('name')}: operation {oid!r} does not exist")
        if policy.get("error") and c.codes.get(str(policy["error"]), {}).get("status") != 429:
            problems.append(f"policy {policy.get('name')}: error {policy['error']!r} is not a 429 code")
    assert not problems, "\n".join(problems)


def _schema_props(c, ptr: str) -> dict:
    schema = resolve(c.doc, lookup(c.doc, ptr))
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        props.update(resolve(c.doc, part).get("properties") or {})
    return props


def test_resources_match_their_schemas(load, contract_name):
    c = load(contract_name)
    problems = []
    for name, res in c.resources.items():
        try:
            props = _schema_props(c, res["schema"][1:])
        except (KeyError, IndexError, TypeError):
            problems.append(f"{name}: schema {res.get('schema')!r} does not resolve")
            continue
        hidden = set(res.get("hidden") or [])
        fields = {"id.field": (res.get("id") or {}).get("field"),
                  "lifecycle.field": (res.get("lifecycle") or {}).get("field"),
                  "timestamps.created": (res.get("timestamps") or {}).get("created"),
                  "timestamps.updated": (res.get("timestamps") or {}).get("updated")}
        fields.update({f"also.{k}": k for k in res.get("also") or {}})
        fields.update({f"defaults.{k}": k for k in res.get("defaults") or {}})
        for where, field_name in fields.items():
            if field_name and field_name not in props and field_name not in hidden:
                problems.append(f"{name}: {where} {field_name!r} is not a property of {res['schema']}")
        lifecycle = res.get("lifecycle") or {}
        if lifecycle:
            transitions = lifecycle.get("transitions") or {}
            states = set(transitions) | {s for targets in transitions.values() for s in targets}
            if "initial" in lifecycle and lifecycle["initial"] not in states:
                problems.append(f"{name}: lifecycle.initial {lifecycle['initial']!r} is not a state")
            enum = resolve(c.doc, props.get(lifecycle.get("field")) or {}).get("enum")
            if enum and states - set(enum):
                problems.append(f"{name}: lifecycle states {sorted(states - set(enum))} not in the field's enum")
        group = res.get("shared-with-group") or {}
        if group.get("flag") and group["flag"] not in props and group["flag"] not in hidden:
            problems.append(f"{name}: shared-with-group.flag {group['flag']!r} is neither a property nor hidden")
    subs = (c.doc.get("x-mock-webhooks") or {}).get("subscriptions") or {}
    if subs:
        res = c.resources.get(subs.get("resource"))
        if res is None:
            problems.append(f"x-mock-webhooks.subscriptions.resource {subs.get('resource')!r} is not a resource")
        else:
            props = _schema_props(c, res["schema"][1:])
            for key in ("url-field", "events-field"):
                if subs.get(key) and subs[key] not in props:
                    problems.append(f"x-mock-webhooks.subscriptions.{key} {subs[key]!r} is not a property")
    assert not problems, "\n".join(problems)


def test_webhook_events_are_emitted_by_resources(load, contract_name):
    c = load(contract_name)
    emitted = {e for res in c.resources.values() for e in (res.get("events") or {}).values()}
    problems = []
    for path, method, op, _ in operations(c.doc, "webhooks"):
        event = op.get("x-mock-event")
        if event is not None and event not in emitted:
            problems.append(f"webhooks {path}: event {event!r} is emitted by no x-mock-resources events entry")
    if list(operations(c.doc, "webhooks")) and not c.doc.get("x-mock-webhooks"):
        problems.append("a webhooks section without x-mock-webhooks (how are they delivered?)")
    assert not problems, "\n".join(problems)


def test_tenancy_scope_is_declared(load, contract_name):
    c = load(contract_name)
    tenancy = c.doc.get("x-mock-tenancy")
    if not tenancy:
        return
    scope = tenancy.get("scope") or {}
    where, name = scope.get("in"), scope.get("name")
    if where == "principal":
        return
    declared = False
    for _, _, op, item in operations(c.doc):
        params = parameters(c.doc, op, item)
        if (where, name.lower() if where == "header" else name) in params:
            declared = True
    if where == "header":
        declared |= any(s.get("type") == "apiKey" and s.get("in") == "header" and s.get("name", "").lower()
                        == name.lower() for s in c.schemes.values())
    assert declared, f"x-mock-tenancy scope {where} {name!r} is declared by no parameter or security scheme"
    marked = [n for n, s in c.schemes.items() if s.get("x-mock-scope")]
    for n in marked:
        s = c.schemes[n]
        assert s.get("in") == where and s.get("name", "").lower() == name.lower(), (
            f"securityScheme {n} has x-mock-scope but is not the tenancy scope {where} {name}")


def _readme_template_roots() -> set[str]:
    """Roots of the names README documents for templates, plus those its examples use."""
    text = README.read_text(encoding="utf-8")
    para = re.search(r"Names available(.*?)error code entry", text, flags=re.DOTALL)
    assert para, "README lost its 'Names available' paragraph"
    roots = {n.split(".")[0] for n in re.findall(r"`([a-z_]+(?:\.[A-Za-z_]+)*)`", para.group(1))}
    for chunk in _readme_chunks(text):
        for _, _, value in x_mock_keys(chunk):
            roots |= {n.split(".")[0] for n in placeholders(value)}
    return roots - {"attributes"}  # prose: "`principal.X` (a credential's `attributes`)"


def test_templates_use_documented_names(load, contract_name):
    c = load(contract_name)
    documented = _readme_template_roots()
    code_fields = {k for code in c.codes.values() for k in code}
    problems = []
    for tokens, key, value in x_mock_keys(c.doc):
        allowed = documented | (code_fields if key == "x-mock-errors" else set())
        for name in sorted(placeholders(value)):
            root = name.split(".")[0]
            if root not in allowed:
                problems.append(f"{pointer(*tokens, key)}: {{{name}}} is not a documented template name")
            if root == "header" and name != name.lower():
                problems.append(f"{pointer(*tokens, key)}: {{{name}}} header names are lower case")
    assert not problems, "\n".join(problems)


def _request_names(c, op, item) -> dict[str, set[str]]:
    params = parameters(c.doc, op, item)
    names = {w: {n for (where, n) in params if where == w} for w in ("path", "query", "header")}
    for requirement in op.get("security", c.doc.get("security")) or []:
        for scheme in requirement:
            s = c.schemes.get(scheme) or {}
            if s.get("type") == "apiKey" and s.get("in") in ("header", "query"):
                names[s["in"]].add(s["name"].lower() if s["in"] == "header" else s["name"])
    if any((c.schemes.get(n) or {}).get("type") in ("http", "oauth2") for r in
           op.get("security", c.doc.get("security")) or [] for n in r):
        names["header"].add("authorization")
    return names


def test_request_placeholders_name_declared_parameters(load, contract_name):
    """{path.X} / {query.X} / {header.x} used for an operation are parameters it declares."""
    c = load(contract_name)
    problems = []
    for path, method, op, item in operations(c.doc):
        used = [("x-mock-action", n) for n in placeholders(op.get("x-mock-action") or {})]
        used += [(f"policy {p.get('name')}", n) for p in c.policies_covering(op) for n in placeholders(p.get("key"))]
        names = _request_names(c, op, item)
        for where, name in used:
            root, _, rest = name.partition(".")
            if root in names and rest.split(".")[0] not in names[root]:
                problems.append(f"{method.upper()} {path}: {where} uses {{{name}}}, not a declared {root} parameter")
        action = op.get("x-mock-action") or {}
        for key in ("limit", "after", "before", "page", "page-size"):
            q = (action.get("pagination") or {}).get(key)
            if q and q not in names["query"]:
                problems.append(f"{method.upper()} {path}: pagination.{key} {q!r} is not a query parameter")
        if action.get("status") and str(action["status"]) not in responses(c.doc, op):
            problems.append(f"{method.upper()} {path}: x-mock-action status {action['status']} is not documented")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ fixtures


def test_fixtures_validate(load, load_fixture, contract_name, x_mock_validator):
    c = load(contract_name)
    fixture = load_fixture(c.api_name)
    errors = errors_of(x_mock_validator("fixtures"), fixture)
    assert not errors, f"fixtures/{c.api_name}/sandbox.yaml:\n" + "\n".join(errors)


def test_fixtures_match_the_contract(load, load_fixture, contract_name):
    c = load(contract_name)
    fixture = load_fixture(c.api_name) or {}
    problems = []
    scopes = [t.get("scope") for t in fixture.get("tenants") or []]
    if len(scopes) != len(set(map(str, scopes))):
        problems.append(f"tenant scopes repeat: {scopes}")
    scope_set = set(map(str, scopes))
    principals = [cr.get("principal") for cr in fixture.get("credentials") or []]
    if len(principals) != len(set(principals)):
        problems.append(f"principals repeat: {principals}")
    for cred in fixture.get("credentials") or []:
        who = f"credential {cred.get('principal')}"
        for scheme in cred.get("schemes") or {}:
            if scheme not in c.schemes:
                problems.append(f"{who}: scheme {scheme!r} is not a security scheme of the contract")
            elif c.schemes[scheme].get("type") == "http" and c.schemes[scheme].get("scheme") == "basic" \
                    and ":" not in str(cred["schemes"][scheme]):
                problems.append(f"{who}: HTTP Basic value of {scheme} is not user:password")
        for s in cred.get("scopes") or []:
            if str(s) not in scope_set:
                problems.append(f"{who}: scope {s!r} is not a tenant")
    grants = [set((op.get("x-mock-action") or {}).get("grant") or {}) for _, _, op, _ in operations(c.doc)
              if (op.get("x-mock-action") or {}).get("kind") == "issue-credential"]
    for cred in fixture.get("credentials") or []:
        if "grant" in cred and set(cred["grant"]) not in grants:
            problems.append(f"credential {cred.get('principal')}: grant keys {sorted(cred['grant'])} match "
                            f"no issue-credential action {[sorted(g) for g in grants]}")
    for g in grants:
        if not any(set(cred.get("grant") or {}) == g for cred in fixture.get("credentials") or []):
            problems.append(f"no credential can use the issue-credential grant {sorted(g)}")
    used = {n for _, _, value in x_mock_keys(c.doc) for n in placeholders(value)}
    for source, entries in (("principal", fixture.get("credentials")), ("tenant", fixture.get("tenants"))):
        known = {k for e in entries or [] for k in e.get("attributes") or {}}
        for name in sorted(n for n in used if n.startswith(source + ".")):
            attr = name.split(".")[1]
            if attr not in known and name != "principal.id":
                problems.append(f"{{{name}}} is used, but no {source} has attribute {attr!r}")
    for name, items in (fixture.get("resources") or {}).items():
        res = c.resources.get(name)
        if res is None:
            problems.append(f"resources.{name}: not in x-mock-resources")
            continue
        validator = validator_at(c.registry, c.uri, res["schema"][1:])
        hidden = set(res.get("hidden") or [])
        id_field = (res.get("id") or {}).get("field")
        ids = [item.get(id_field) for item in items]  # unique per resource (across tenants too)
        if None in ids or len(ids) != len(set(map(str, ids))):
            problems.append(f"resources.{name}: ids missing or repeated: {ids}")
        for i, item in enumerate(items):
            scope_field = res.get("scope-field")
            if "_scope" in item:
                if scope_field:
                    problems.append(f"resources.{name}[{i}]: _scope on a resource with scope-field {scope_field}")
                if str(item["_scope"]) not in scope_set:
                    problems.append(f"resources.{name}[{i}]: _scope {item['_scope']!r} is not a tenant")
                item = {k: v for k, v in item.items() if k != "_scope"}
            elif scope_field and str(item.get(scope_field)) not in scope_set:
                problems.append(f"resources.{name}[{i}]: {scope_field} {item.get(scope_field)!r} is not a tenant")
            # the stored representation, hidden fields included (or, failing that, without them)
            errors = errors_of(validator, item)
            if errors and hidden:
                errors = errors_of(validator, {k: v for k, v in item.items() if k not in hidden}) and errors
            problems += [f"resources.{name}[{i}]: {err}" for err in errors]
    assert not problems, f"fixtures/{c.api_name}/sandbox.yaml:\n" + "\n".join(problems)


def test_fixture_directories_belong_to_contracts():
    names = set(contract_names())
    stray = [p.parent.name for p in FIXTURES.glob("*/sandbox.yaml") if p.parent.name not in names]
    assert not stray, f"fixtures for unknown APIs: {stray}"
