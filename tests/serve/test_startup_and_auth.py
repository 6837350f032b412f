"""Start-up refusals (one line, exit 2) and the bearer token."""

from __future__ import annotations

import signal
import socket
import sys

import pytest
from openapi_spec_validator import validate

from policykit.cli import main

TOKEN = "s3cret-token-for-the-tests-0123456789"


def test_another_address_without_a_token_is_refused(serve_cli) -> None:
    done = serve_cli("--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "needs" not in done.stderr
    assert "--host 0.0.0.0 is reachable from other machines: give a bearer token" in done.stderr


@pytest.mark.parametrize("args, message", [
    (["--policy", "clintn"], "no policy named `clintn` (did you mean `clinton`?)"),
    (["--time-limit", "0"], "--time-limit must be more than 0 seconds"),
    (["--max-body", "0"], "--max-body must be at least 1"),
    (["--token-file", "/nonexistent/token"], "--token-file /nonexistent/token: cannot read"),
])
def test_bad_start_up_arguments_are_one_line(serve_cli, args, message) -> None:
    done = serve_cli(*args, "--port", "0")
    assert done.returncode == 2 and message in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_policy_that_does_not_compile_is_refused_with_its_diagnostic(serve_cli, tmp_path) -> None:
    bad = tmp_path / "bad.pol"
    bad.write_text('policy bad "Bad"\nclause 1 "x"\n  remove comment when has nonsense_category\n')
    done = serve_cli("--policy", str(bad), "--port", "0")
    assert done.returncode == 2 and "does not compile" in done.stderr and "bad.pol:3" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_one_line(serve_cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = serve_cli("--policy", "clinton", "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2 and "cannot listen on 127.0.0.1:" in done.stderr and done.stderr.count("\n") == 1


def test_a_short_token_is_refused(serve_cli, tmp_path) -> None:
    short = tmp_path / "token"
    short.write_text("hunter2\n")
    done = serve_cli("--token-file", str(short), "--port", "0")
    assert done.returncode == 2 and "at least 16 printable characters" in done.stderr


def test_without_the_serve_extra_it_names_the_extra(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if it were not installed
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == ("policykit serve: needs the serve extra, which is not installed (no module 'fastapi'): "
                   "pip install 'policykit[serve]'\n")


def test_with_a_token_every_endpoint_but_health_needs_it(start_server, tmp_path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    server = start_server("--policy", "clinton", "--token-file", str(token_file), "--reload-interval", "0")
    assert "token required" in server.stderr()
    event = {"kind": "comment", "labels": ["obscene"]}
    with server.client() as http:
        assert http.get("/healthz").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"Authorization": TOKEN}):
            for method, path in (("POST", "/v1/policies/clinton/evaluate"), ("GET", "/v1/policies"),
                                 ("GET", "/metrics"), ("POST", "/v1/anything")):
                answer = http.request(method, path, json=event, headers=headers)
                assert answer.status_code == 401, (path, headers)
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert "Authorization: Bearer" in answer.json()["error"]
        good = {"Authorization": f"Bearer {TOKEN}"}
        answer = http.post("/v1/policies/clinton/evaluate", json=event, headers=good)
        assert answer.status_code == 200 and answer.json()["decision"] == "remove"
        assert http.get("/metrics", headers=good).status_code == 200
        doc = http.get("/openapi.json").json()
    validate(doc)
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
    assert doc["paths"]["/v1/policies/{policy}/evaluate"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/healthz"]["get"]


def test_the_token_can_come_from_the_environment(start_server) -> None:
    server = start_server("--policy", "clinton", "--reload-interval", "0", env={"POLICYKIT_SERVE_TOKEN": TOKEN})
    with server.client() as http:
        assert http.get("/v1/policies").status_code == 401
        assert http.get("/v1/policies", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_it_shuts_down_gracefully_on_sigterm(start_server) -> None:
    server = start_server("--policy", "clinton", "--reload-interval", "0")
    # uvicorn finishes what is in flight, then re-raises the signal, so the status says SIGTERM
    assert server.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.stderr() and "Traceback" not in server.stderr()
