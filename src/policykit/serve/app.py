"""The HTTP decision API: FastAPI routes over a `PolicySet`, with limits, auth and metrics.

Request bodies are read here, not by FastAPI's validation: each is bounded in size and time, parsed
with orjson and handed to the library (`Policy.evaluate`, `policykit.platforms.from_platform`), so a
served verdict is the library's verdict and a malformed event is answered with the library's own
`EventError` problems (422), not a framework's error format. The OpenAPI document still describes
every body: its schemas are generated from the library's pydantic models (`Event`, `Verdict`) and the
wrappers in `schemas.py`.

A decision takes microseconds, so it is made on the event loop itself (a thread hop would cost more
than the decision); a batch yields to the loop between chunks, so one large batch does not stall the
other requests, and stops at the request's time limit.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Sequence

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.responses import Response
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import EventError
from ..models import Event, _short
from ..records import ArchiveError
from . import schemas
from .decision_log import DecisionLog
from .metrics import Metrics
from .registry import PolicySet, Served

log = logging.getLogger("policykit.serve")

JSON = "application/json"
BATCH_YIELD = 64  # events judged between yields to the event loop in a batch


@dataclass(frozen=True)
class Limits:
    """What one request may cost: body bytes, events in a batch, and seconds from start to answer."""

    max_body: int = 1 << 20
    max_batch: int = 1000
    time_limit: float = 10.0


class ApiError(Exception):
    """An answer other than 200, in the error shape of `schemas.ErrorBody`."""

    def __init__(self, status: int, error: str, problems: Sequence[dict[str, Any]] = (),
                 diagnostics: Sequence[dict[str, Any]] = (), headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.headers = status, error, headers
        self.problems, self.diagnostics = list(problems), list(diagnostics)

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.error, "problems": self.problems}
        if self.diagnostics:
            body["diagnostics"] = self.diagnostics
        return Response(orjson.dumps(body), self.status, headers=self.headers, media_type=JSON)


def _malformed(exc: EventError) -> ApiError:
    return ApiError(422, "malformed event", schemas.event_problems(exc))


# ---------------------------------------------------------------- the ASGI guard: auth and latency

class Guard:
    """Outermost ASGI middleware: the bearer token (when one is set) and the latency histogram.

    Plain ASGI rather than a `BaseHTTPMiddleware`, which would cost a task per request. Everything but
    `/healthz` and `/openapi.json` needs the token; the comparison takes constant time.
    """

    OPEN = frozenset({"/healthz", "/openapi.json"})

    def __init__(self, app: Any, metrics: Metrics, token: str | None, time_limit: float) -> None:
        self.app, self.metrics, self.time_limit = app, metrics, time_limit
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        # The request's time limit runs from here; the routes read it as `request.state.deadline`.
        scope.setdefault("state", {})["deadline"] = asyncio.get_running_loop().time() + self.time_limit

        async def timed_send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            if self.expected is not None and scope["path"] not in self.OPEN and not self._authorised(scope):
                error = ApiError(401, "this server needs `Authorization: Bearer <token>` (the token it was "
                                 "started with)", headers={"WWW-Authenticate": 'Bearer realm="policykit"'})
                await error.response()(scope, receive, timed_send)
                return
            await self.app(scope, receive, timed_send)
        finally:
            route = scope.get("route")
            self.metrics.observe(getattr(route, "path", "unmatched"), scope["method"], status,
                                 time.perf_counter() - start)

    def _authorised(self, scope: dict) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                return hmac.compare_digest(value, self.expected)  # type: ignore[arg-type]
        return False


# ---------------------------------------------------------------- reading requests

def _deadline(request: Request) -> float:
    return request.state.deadline  # type: ignore[no-any-return]


async def read_json(request: Request, limits: Limits) -> Any:
    """The body as JSON: at most `max_body` bytes, received within the time limit. The content type is
    not checked (as OPA does not): the body is JSON or it is refused, whatever the header says, so a
    plain `curl -d` works."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limits.max_body):
        raise _too_large(limits)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(_deadline(request)):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_body:
                    raise _too_large(limits)
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(408, f"the request body did not arrive within the time limit ({limits.time_limit:g} s)") \
            from None
    body = b"".join(chunks)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                       [{"path": "", "expected": "a JSON document", "got": _short(body[:60])}]) from None


def _too_large(limits: Limits) -> ApiError:
    return ApiError(413, f"the body is larger than this server's limit of {limits.max_body:,} bytes "
                         "(--max-body); send fewer or smaller events per request")


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(422, f"malformed {what}", [{"path": "", "expected": f"{what} as a JSON object",
                                                    "got": _short(data)}])
    return data


# ---------------------------------------------------------------- the app

class Service:
    """What the routes share: the policies, limits, metrics and (optionally) the decision log."""

    def __init__(self, policies: PolicySet, limits: Limits, metrics: Metrics,
                 decision_log: DecisionLog | None) -> None:
        self.policies, self.limits, self.metrics, self.decision_log = policies, limits, metrics, decision_log

    def served(self, name: str) -> Served:
        """The policy version a request uses from start to end (a reload meanwhile does not change it)."""
        current = self.policies.current()
        served = current.get(name)
        if served is None:
            import difflib
            close = difflib.get_close_matches(name, list(current), n=1)
            hint = f"did you mean `{close[0]}`?" if close else f"served: {', '.join(sorted(current))}"
            raise ApiError(404, f"this server serves no policy named `{name}` ({hint})",
                           [{"path": "policy", "expected": "one of " + ", ".join(sorted(current)), "got": repr(name)}])
        return served

    def judge(self, served: Served, event: Any) -> Any:
        """The library's verdict; a malformed event raises EventError (counted as `malformed`)."""
        try:
            verdict = served.policy.evaluate(event)
        except EventError:
            self.metrics.decided(served.policy.name, "malformed")
            raise
        self.metrics.decided(served.policy.name, verdict.decision)
        return verdict

    async def judge_all(self, served: Served, events: list[Any], deadline: float) -> list[Any]:
        """Each event's verdict or its EventError, in order (an EventError given in place of an event is
        passed through); yields to the loop between chunks."""
        loop = asyncio.get_running_loop()
        results: list[Any] = []
        for start in range(0, len(events), BATCH_YIELD):
            if start:
                await asyncio.sleep(0)
                if loop.time() > deadline:
                    raise ApiError(503, f"the time limit ({self.limits.time_limit:g} s) ran out after "
                                        f"{start} of {len(events)} events; send smaller batches",
                                   headers={"Retry-After": "1"})
            for event in events[start:start + BATCH_YIELD]:
                if isinstance(event, EventError):  # an item the platform adapter already refused
                    results.append(event)
                    continue
                try:
                    results.append(self.judge(served, event))
                except EventError as exc:
                    results.append(exc)
        return results

    async def recorded(self, served: Served, events: list[Any], deadline: float) -> list[Any]:
        """With a decision log: the log's outcomes, once durable (the moderator judges them again)."""
        assert self.decision_log is not None
        try:
            async with asyncio.timeout_at(deadline):
                return await self.decision_log.record(served, events)
        except TimeoutError:
            raise ApiError(503, f"the decision log did not record within the time limit "
                                f"({self.limits.time_limit:g} s); it may still record it: sending the same "
                                "events again is safe (a redelivery is not recorded twice)",
                           headers={"Retry-After": "1"}) from None
        except ArchiveError as exc:
            raise ApiError(503, f"the decision log cannot record, so the verdict is not served: {exc}",
                           headers={"Retry-After": "5"}) from None

    async def batch_body(self, served: Served, events: list[Any], deadline: float) -> bytes:
        """A `BatchResponse`, assembled from each verdict's own JSON (pydantic serialises in Rust)."""
        judged = await self.judge_all(served, events, deadline)
        good = [e for e, v in zip(events, judged) if not isinstance(v, EventError)]
        outcomes = iter(await self.recorded(served, good, deadline)) if good and self.decision_log else None
        parts: list[str] = []
        errors = 0
        for index, result in enumerate(judged):
            if isinstance(result, EventError):
                errors += 1
                parts.append(orjson.dumps({"index": index, "error": "malformed event",
                                           "problems": schemas.event_problems(result)}).decode())
            elif outcomes is not None:
                outcome = _logged(next(outcomes))
                receipt = orjson.dumps(outcome.receipt).decode()
                parts.append(f'{{"index":{index},"verdict":{outcome.verdict_json},"record":{receipt}}}')
            else:
                parts.append(f'{{"index":{index},"verdict":{result.model_dump_json()}}}')
        head = orjson.dumps({"policy": served.policy.name, "digest": served.policy.digest}).decode()[:-1]
        return f'{head},"errors":{errors},"results":[{",".join(parts)}]}}'.encode()


def _logged(outcome: Any) -> Any:
    """A decision log outcome that holds a verdict (the event was judged well-formed before it was sent)."""
    if outcome.error is not None:
        raise ApiError(422, "malformed event", [{"path": outcome.error_path or "", "expected": outcome.error}])
    return outcome


def _verdict_response(body: str | bytes, served: Served) -> Response:
    return Response(body, media_type=JSON, headers={"X-Policykit-Digest": served.policy.digest})


def _summary(served: Served) -> dict[str, Any]:
    p = served.policy
    return {"name": p.name, "title": p.title, "version": p.version, "jurisdiction": p.jurisdiction,
            "effective": p.effective.isoformat() if p.effective else None, "digest": p.digest, "file": p.file,
            "unfilled": list(p.unfilled), "loaded_at": served.loaded_at}


def _detail(served: Served) -> dict[str, Any]:
    p = served.policy
    clauses = [{"id": c.id, "text": c.text, "source": c.source, "parent": c.parent,
                "effective": c.effective.isoformat() if c.effective else None,
                "until": c.until.isoformat() if c.until else None, "checked": c.has_rules,
                "unchecked": c.unchecked} for c in p.clauses.values()]
    rules = [{"id": r.id, "effect": r.effect, "kinds": sorted(r.kinds),
              "actions": sorted(r.actions) if r.actions else None, "clauses": list(r.clauses), "source": str(r.span)}
             for r in p.rules]
    return {**_summary(served), "retention": str(p.retention) if p.retention is not None else None,
            "clauses": clauses, "rules": rules}


def create_app(policies: PolicySet, *, limits: Limits = Limits(), token: str | None = None,
               decision_log: DecisionLog | None = None, reload_interval: float = 1.0,
               metrics: Metrics | None = None, on_ready: Callable[[], None] | None = None) -> Any:
    """The ASGI application (FastAPI inside the `Guard`). `policies` must be loaded already; the
    watcher and the decision log start and stop with the app's lifespan; `on_ready` is called once the
    app is ready for requests (and the server's signal handlers are in place)."""
    metrics = metrics or Metrics()
    service = Service(policies, limits, metrics, decision_log)
    policies.on_reload = lambda name, result: metrics.reloads.labels(name, result).inc()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if decision_log is not None:
            await asyncio.to_thread(decision_log.start)
        policies.watch(reload_interval)
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            policies.stop()
            if decision_log is not None:
                await asyncio.to_thread(decision_log.close)

    app = FastAPI(title="policykit decision API", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, **_no_telemetry(),
                  description="Judge posts, comments, accounts and actions against city social-media policies; "
                              "every verdict cites the clauses it rests on. See docs/serve.md.")
    app.state.service = service
    _errors(app)
    _routes(app, service)
    _openapi(app, token is not None)
    return Guard(app, metrics, token, limits.time_limit)


def _no_telemetry() -> dict[str, Any]:
    """FastAPI's OpenTelemetry hooks off (where this FastAPI has them): the service reports through
    /metrics and its log, and asking for providers on every request costs more than a decision."""
    import inspect
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def _errors(app: FastAPI) -> None:
    """Every error in the one shape, `schemas.ErrorBody`; an unexpected one is logged and is a 500."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        text = {404: f"no such endpoint: {request.url.path} (see /openapi.json)",
                405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return ApiError(exc.status_code, text, headers=getattr(exc, "headers", None)).response()

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        problems = [{"path": ".".join(str(p) for p in e["loc"]), "expected": e["msg"], "got": _short(e.get("input"))}
                    for e in exc.errors()]
        return ApiError(422, "bad request parameters", problems).response()

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error answering %s %s", request.method, request.url.path)
        return ApiError(500, f"internal error ({type(exc).__name__}); please report it with the request").response()


class DirectRoute(APIRoute):
    """A route documented from its signature like any other, but called without FastAPI's per-request
    machinery (dependency solving, two exit stacks, a second exception wrapper): the endpoint gets the
    request and its path parameters (all `str`) and returns a `Response`; an `ApiError` is answered
    here. For the decision endpoints, where that machinery cost more than the decision; they read and
    check their bodies themselves anyway. Any other exception goes to the app's handlers as usual."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        endpoint = self.endpoint

        async def app(scope: dict, receive: Any, send: Any) -> None:
            try:
                response = await endpoint(request=Request(scope, receive, send), **scope["path_params"])
            except ApiError as exc:
                response = exc.response()
            await response(scope, receive, send)

        self.app = app


def _routes(app: FastAPI, service: Service) -> None:
    limits = service.limits
    errors = {code: {"model": schemas.ErrorBody, "description": what} for code, what in (
        (400, "the body is not JSON"), (401, "no or wrong bearer token"), (404, "no such policy"),
        (408, "the body did not arrive in time"), (413, "the body is too large, or the batch too long"),
(422, "a malformed event, with the library's field problems"),
        (503, "the time limit ran out, or the decision log cannot record"))}

    def direct(path: str, **options: Any) -> Callable[[Any], Any]:
        """`@app.post`, with the route called as a `DirectRoute`."""
        def add(endpoint: Any) -> Any:
            app.router.add_api_route(path, endpoint, methods=["POST"], route_class_override=DirectRoute, **options)
            return endpoint
        return add

    def body_schema(name: str) -> dict[str, Any]:
        return {"requestBody": {"required": True, "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{name}"}}}}}

    @app.get("/healthz", response_model=schemas.Health, tags=["service"],
             summary="Liveness and what is served; `degraded` while a changed policy file does not compile")
    async def healthz() -> Response:
        policies = service.policies
        problems = [{"file": e.file, "error": e.error, "at": e.at,
                     "diagnostics": [schemas.diagnostic_out(d) for d in e.diagnostics]}
                    for e in policies.errors.values()]
        body = {"status": "degraded" if problems else "ok", "policies": sorted(policies.current()),
                "reloads": policies.reloads, "reload_errors": problems,
                "decision_log": service.decision_log.url if service.decision_log else None}
        return Response(orjson.dumps(body), media_type=JSON)

    @app.get("/metrics", tags=["service"], summary="Prometheus metrics (text exposition format)",
             responses={200: {"content": {"text/plain": {}}, "description": "the metrics"}})
    async def metrics_page() -> Response:
        service.metrics.policies.set(len(service.policies.current()))
        body, kind = service.metrics.exposition()
        return Response(body, media_type=kind)

    @app.get("/v1/policies", response_model=list[schemas.PolicySummary], tags=["policies"],
             summary="The policies served, each with its digest and when it was loaded", responses=errors)
    async def list_policies() -> Response:
        rows = [{**_summary(s), "clauses": len(s.policy.clauses), "rules": len(s.policy.rules)}
                for _, s in sorted(service.policies.current().items())]
        return Response(orjson.dumps(rows), media_type=JSON)

    @app.get("/v1/policies/{policy}", response_model=schemas.PolicyDetail, tags=["policies"],
             summary="One policy: every clause in its own words with its source line, and its rules",
             responses=errors)
    async def show_policy(policy: str) -> Response:
        return Response(orjson.dumps(_detail(service.served(policy))), media_type=JSON)

    @direct("/v1/policies/{policy}/evaluate", response_model=schemas.RecordedVerdict, tags=["decisions"],
            summary="Judge one event (the contract's event shape); the verdict cites the clauses",
            openapi_extra=body_schema("Event"), responses=errors)
    async def evaluate(policy: str, request: Request) -> Response:
        served = service.served(policy)
        event = _object(await read_json(request, limits), "event")
        try:
            verdict = service.judge(served, event)
        except EventError as exc:
            raise _malformed(exc) from None
        if service.decision_log is None:
            return _verdict_response(verdict.model_dump_json(), served)
        outcome = _logged((await service.recorded(served, [event], _deadline(request)))[0])
        return _verdict_response(outcome.to_json_line(), served)

    @direct("/v1/policies/{policy}/batch", response_model=schemas.BatchResponse, tags=["decisions"],
            summary="Judge events in order; a malformed one is answered in its place and the rest go on",
            openapi_extra=body_schema("BatchRequest"), responses=errors)
    async def batch(policy: str, request: Request) -> Response:
        served = service.served(policy)
        body = _object(await read_json(request, limits), "batch")
        events = body.get("events")
        if set(body) != {"events"} or not isinstance(events, list):
            extra = sorted(set(body) - {"events"})
            problem = {"path": extra[0], "expected": None} if extra else \
                {"path": "events", "expected": "a list of events", "got": _short(events)}
            raise ApiError(422, "malformed batch", [problem])
        _check_batch(len(events), limits)
        return _verdict_response(await service.batch_body(served, events, _deadline(request)), served)

    @app.post("/v1/policies/{policy}/platforms/{platform}", response_model=schemas.BatchResponse,
              tags=["decisions"], responses=errors,
              summary="Judge a platform's native payload (a webhook delivery, a status, a firehose record): "
                      "converted item by item by `policykit.platforms.convert`, one result per event or refused item",
              openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": {
                  "type": "object", "description": "the platform's payload, as it delivered it"}}}}})
    async def platform_payload(policy: str, platform: str, request: Request,
                               city_account: list[str] = Query(default=[], description=(
                                   "an account id or handle that belongs to the city (its items are posts); "
                                   "repeat for several"))) -> Response:
        from ..platforms import UnknownPlatformError, convert
        served = service.served(policy)
        payload = _object(await read_json(request, limits), "payload")
        try:  # item by item: a refused item (its PlatformPayloadError) is answered in its place
            converted = convert(platform, payload, city_accounts=frozenset(city_account))
        except UnknownPlatformError as exc:
            raise ApiError(404, str(exc), [{"path": "platform", "expected": "one of " + ", ".join(exc.known),
                                            "got": repr(platform)}]) from None
        whole = converted[0] if len(converted) == 1 and converted[0].index is None else None
        if whole is not None and whole.error is not None:  # the payload itself is refused, not one of its items
            raise ApiError(422, "malformed payload", schemas.event_problems(whole.error))
        events = [item.event if item.error is None else item.error for item in converted]
        _check_batch(len(events), limits)
        return _verdict_response(await service.batch_body(served, events, _deadline(request)), served)


def _check_batch(count: int, limits: Limits) -> None:
    if count > limits.max_batch:
        raise ApiError(413, f"{count:,} events in one request; this server takes at most {limits.max_batch:,} "
                            "(--max-batch)", [{"path": "events", "expected": f"at most {limits.max_batch} events",
                                               "got": f"{count} events"}])


def _openapi(app: FastAPI, secured: bool) -> None:
    """The generated document, with the library's event models among its schemas (the request bodies
    refer to them) and, when a token is required, the bearer scheme."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = doc.setdefault("components", {}).setdefault("schemas", {})
        for name, model in (("Event", Event), ("BatchRequest", schemas.BatchRequest)):
            schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
            for part, definition in schema.pop("$defs", {}).items():
                components.setdefault(part, definition)
            components[name] = schema
        if secured:
            components_root = doc["components"]
            components_root["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            for path, operations in doc["paths"].items():
                if path not in Guard.OPEN:
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
        app.openapi_schema = doc
        return doc

    app.openapi = build  # type: ignore[method-assign]


__all__ = ["ApiError", "Guard", "Limits", "Service", "create_app", "read_json"]
