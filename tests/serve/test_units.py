"""The parts of the server that a real process cannot exercise on demand: the batch time limit, an
archive that stops recording, and the address and parameter rules."""

from __future__ import annotations

import asyncio

import pytest

from policykit.cli_serve import is_loopback
from policykit.records import ArchiveError
from policykit.serve import ApiError, Limits, PolicySet
from policykit.serve.app import Service
from policykit.serve.metrics import Metrics
from policykit.serve.registry import split_params


@pytest.fixture(scope="module")
def clinton():
    policies = PolicySet(["clinton"])
    policies.load()
    return policies


def test_a_batch_stops_at_the_time_limit(clinton) -> None:
    service = Service(clinton, Limits(time_limit=0.5), Metrics(), None)
    served = clinton.current()["clinton"]

    async def late() -> None:
        await service.judge_all(served, [{"kind": "comment"}] * 200, asyncio.get_running_loop().time() - 1)

    with pytest.raises(ApiError) as info:
        asyncio.run(late())
    assert info.value.status == 503 and "after 64 of 200 events" in info.value.error
    assert info.value.headers == {"Retry-After": "1"}


def test_an_archive_that_cannot_record_is_a_503_and_no_verdict(clinton) -> None:
    class Full:
        url = "full.db"

        async def record(self, served, events):
            raise ArchiveError("disk full: nothing of this batch was recorded")

    service = Service(clinton, Limits(), Metrics(), Full())  # type: ignore[arg-type]

    async def go() -> None:
        await service.recorded(clinton.current()["clinton"], [{"kind": "comment"}], asyncio.get_running_loop().time() + 5)

    with pytest.raises(ApiError) as info:
        asyncio.run(go())
    assert info.value.status == 503 and "disk full" in info.value.error


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("example.org", False),
])
def test_which_addresses_need_a_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_parameters_for_every_policy_or_one() -> None:
    common, scoped = split_params({"city": "Lakeville", "minnesota_model:city": "Edina", "nyc:agency": "Parks"})
    assert common == {"city": "Lakeville"}
    assert scoped == {"minnesota_model": {"city": "Edina"}, "nyc": {"agency": "Parks"}}


def test_a_scoped_parameter_reaches_only_its_policy() -> None:
    policies = PolicySet(["minnesota_model", "nyc"], {"minnesota_model:city": "Edina"})
    policies.load()
    assert policies.current()["minnesota_model"].policy.params["city"] == "Edina"
