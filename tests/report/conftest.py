"""The report of the five bundled policies, built once for the report's tests (their tests run too)."""

from __future__ import annotations

from pathlib import Path

import pytest

import policykit
from policykit.cli import EventReader
from policykit.report import html, site

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ("syracuse", "nyc", "clinton", "cottonwood", "minnesota_model")


@pytest.fixture(scope="session")
def bundled() -> list[policykit.Policy]:
    return [policykit.load(name) for name in BUNDLED]


@pytest.fixture(scope="session")
def bundled_site(bundled: list[policykit.Policy]) -> site.Site:
    events = list(EventReader([str(ROOT / "examples" / "events")]))
    return site.build(bundled, events, ["examples/events"])


@pytest.fixture(scope="session")
def site_dir(bundled_site: site.Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    html.write(bundled_site, out)
    return out
