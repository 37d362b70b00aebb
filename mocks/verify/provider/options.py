"""What a provider run is asked to do: `ProviderOptions`, read from the command line."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass
class ProviderOptions:
    api: str
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    basic: tuple[str, str] | None = None
    examples: int = 20
    phases: tuple[str, ...] = PHASES
    seed: int | None = None
    # Schemathesis `[parameters]` overrides, e.g. {"path.companyId": "..."}: pin the tenant a
    # credential may see, so that positive data is not refused with 403 everywhere.
    parameters: dict[str, Any] = field(default_factory=dict)
    # Only these operation ids (default: every operation served at the base URL).
    operations: tuple[str, ...] = ()


def options_from_args(args: argparse.Namespace) -> ProviderOptions:
    headers: dict[str, str] = {}
    for value in args.header:
        name, sep, setting = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header takes NAME:VALUE, got '{value}'")
        headers[name.strip()] = setting.strip()
    if args.bearer:
        headers["Authorization"] = f"Bearer {args.bearer}"
    basic = None
    if args.basic:
        user, sep, password = args.basic.partition(":")
        if not sep:
            raise ValueError(f"--basic takes USER:PASSWORD, got '{args.basic}'")
        basic = (user, password)
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = [p for p in phases if p not in PHASES]
    if unknown or not phases:
        raise ValueError(f"--phases takes a comma-separated list of {', '.join(PHASES)}; got '{args.phases}'")
    if args.examples < 1:
        raise ValueError("--examples must be at least 1")
    parameters: dict[str, Any] = {}
    for value in getattr(args, "parameter", None) or []:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--parameter takes NAME=VALUE (e.g. path.companyId=...), got '{value}'")
        parameters[name.strip()] = setting
    return ProviderOptions(api=args.api, base_url=args.base_url.rstrip("/"), headers=headers, basic=basic,
                           examples=args.examples, phases=phases, seed=args.seed, parameters=parameters,
                           operations=tuple(getattr(args, "operation", None) or ()))
