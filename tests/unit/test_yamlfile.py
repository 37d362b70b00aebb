"""The YAML cache (`mocks.yamlfile`): a file parses to the same document from the cache as from
PyYAML, an edited file is parsed again, and a cache that cannot be used never stops a load."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from mocks import yamlfile
from mocks.yamlfile import CACHE_ENV, cache_folder, load_yaml_file

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(ROOT.glob("contracts/*.yaml")) + sorted(ROOT.glob("fixtures/*/sandbox.yaml"))


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every time PyYAML is asked to parse, by what the file says."""
    seen: list[str] = []
    parse = yamlfile.load_yaml

    def counting(stream):
        seen.append(stream)
        return parse(stream)

    monkeypatch.setattr(yamlfile, "load_yaml", counting)
    return seen


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_shipped_file_reads_the_same_from_the_cache_as_from_pyyaml(path, cache, parses):
    expected = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert load_yaml_file(path) == expected
    assert load_yaml_file(path) == expected
    assert len(parses) == 1, "the second load parsed the file again instead of reading the cache"
    assert len(list(cache.glob("*.marshal"))) == 1


def test_an_edited_file_is_parsed_again(tmp_path, cache, parses):
    document = tmp_path / "api.yaml"
    document.write_text("openapi: 3.1.0\ninfo: {title: one}\n", encoding="utf-8")
    assert load_yaml_file(document)["info"]["title"] == "one"
    document.write_text("openapi: 3.1.0\ninfo: {title: two, note: ünïcode ✓}\n", encoding="utf-8")
    assert load_yaml_file(document)["info"] == {"title": "two", "note": "ünïcode ✓"}
    assert len(parses) == 2
    assert load_yaml_file(document)["info"]["title"] == "two"
    assert len(parses) == 2


def test_a_document_marshal_cannot_hold_is_parsed_every_time(tmp_path, cache, parses):
    document = tmp_path / "dated.yaml"
    document.write_text("when: 2026-12-05\n", encoding="utf-8")
    assert load_yaml_file(document) == {"when": datetime.date(2026, 12, 5)}
    assert load_yaml_file(document) == {"when": datetime.date(2026, 12, 5)}
    assert len(parses) == 2
    assert not list(cache.glob("*")), "nothing (not even a temporary file) is left in the cache"


def test_a_torn_cache_file_is_parsed_again_and_replaced(tmp_path, cache, parses):
    document = tmp_path / "api.yaml"
    document.write_text("a: [1, 2, 3]\n", encoding="utf-8")
    load_yaml_file(document)
    (cached,) = cache.glob("*.marshal")
    cached.write_bytes(cached.read_bytes()[:3])
    assert load_yaml_file(document) == {"a": [1, 2, 3]}
    assert load_yaml_file(document) == {"a": [1, 2, 3]}
    assert len(parses) == 2


def test_a_cache_folder_that_cannot_be_written_only_costs_the_parse(tmp_path, monkeypatch, parses):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    document = tmp_path / "api.yaml"
    document.write_text("a: 1\n", encoding="utf-8")
    assert load_yaml_file(document) == {"a": 1}
    assert load_yaml_file(document) == {"a": 1}
    assert len(parses) == 2


def test_the_cache_can_be_switched_off(tmp_path, monkeypatch, parses):
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_folder() is None
    document = tmp_path / "api.yaml"
    document.write_text("a: 1\n", encoding="utf-8")
    load_yaml_file(document)
    load_yaml_file(document)
    assert len(parses) == 2


def test_the_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "commerce-api-sandbox" / "yaml"
