"""deploy/README.md: every command in the field laptop's sections is one a test runs."""
from __future__ import annotations

import re

from dvc.config import ROOT
from tests.integration.test_tiles import README_TILES
from tests.integration.test_tls_https import README_TLS

SECTIONS = ("Field laptop: HTTPS", "Offline basemap", "Paper fallback")


def section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"deploy/README.md has no section {heading!r}"
    return match.group(1)


def commands(text: str) -> list[str]:
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
    lines = [line.strip().removeprefix("$ ") for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_commands_of_tls_tile_and_fallback_sections_are_run_by_tests():
    text = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    shown = [c for heading in SECTIONS for c in commands(section(text, heading))]
    assert shown, "the sections show no command"
    tested = set(README_TLS) | set(README_TILES)
    assert [c for c in shown if c not in tested] == []
    assert set(README_TLS) | set(README_TILES) <= set(shown)  # and nothing tested is hidden
