"""The web app over a catalog (``synthcat serve``): Starlette routes, Jinja2 pages, the same data as
JSON under ``/api``.

Stable URLs: ``/`` (datasets), ``/datasets/NAME``, ``/records/ID``, ``/search?q=...``, ``/dedup`` and
``/dedup/RUN``, ``/evaluations`` and ``/evaluations/ID``; each has its JSON twin under ``/api``
(``/api/datasets`` for ``/``). Bad requests get a 4xx page (JSON under ``/api``): 404 for a name or
id the catalog does not hold, 400 for a bad parameter, 403 for a write the server may not make,
503 while another process writes to the catalog.

Nothing outside the catalog is served: pages are rendered from catalog data, and the only files
sent are the package's own stylesheet and script (no CDN, no remote assets). Writing (undoing a
dedup run) needs a server started with ``allow_writes`` and the server's token in the POST body,
which a page of another site cannot know; the ``Host`` header must name this server, which stops
DNS-rebinding pages from reading it.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from catalog.errors import BadInput, CatalogInUse, CatalogNotFound, SynthcatError, UnknownDataset, UnknownItem
from catalog.json_values import json_safe
from catalog.results import jsonable
from catalog.web import views
from catalog.web.handle import SharedCatalog
from catalog.web.params import QueryParams, path_id, search_settings, web_message

PACKAGE = Path(__file__).parent
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
MAX_FORM_BYTES = 4096
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class HttpProblem(Exception):
    """A request the app refuses with ``status`` and a message for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_for(exc: Exception) -> int:
    if isinstance(exc, HttpProblem):
        return exc.status
    if isinstance(exc, (UnknownDataset, UnknownItem)):
        return 404
    if isinstance(exc, (CatalogInUse, CatalogNotFound)):
        return 503
    from catalog.search.keyword import KeywordIndexStale

    if isinstance(exc, KeywordIndexStale):
        return 503
    return 400


class SecurityHeaders:
    """Adds the content security policy and friends to every response (plain ASGI: no overhead of
    a request object per call)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _marked(snippet: str) -> Markup:
    """A search snippet as HTML: escaped, with the «matches» the searcher marked in <mark>."""
    return Markup(re.sub(r"«([^«»]*)»", r"<mark>\1</mark>", str(escape(snippet))))


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _templates():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(PACKAGE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["marked"] = _marked
    env.filters["number"] = _number
    env.filters["pretty"] = lambda value: json.dumps(json_safe(jsonable(value)), indent=2, ensure_ascii=False,
                                                     default=str)
    env.globals["is_mapping"] = lambda value: isinstance(value, dict)
    env.globals["is_list"] = lambda value: isinstance(value, (list, tuple))
    return env


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(json_safe(jsonable(data)), ensure_ascii=False, default=str, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json")


def _with_page(request: Request, page: int) -> str:
    """This page's URL with ``page`` replaced (other parameters kept, repeated ones too)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [("page", str(page))]
    return f"{request.url.path}?{urlencode(items)}"


def create_app(catalog: SharedCatalog | str | Path, *, allow_writes: bool = False, token: str | None = None,
               allowed_hosts: Sequence[str] = LOOPBACK_HOSTS) -> Starlette:
    """The web app over ``catalog`` (a directory, or a :class:`SharedCatalog` to share one).

    ``allow_writes`` (with a non-empty ``token``) enables undoing dedup runs; every such POST must
    carry the token. ``allowed_hosts`` are the names the ``Host`` header may give (``"*"`` for any).
    """
    if allow_writes and not token:
        raise BadInput("writing needs a token: pass `token`")
    shared = catalog if isinstance(catalog, SharedCatalog) else SharedCatalog(catalog)
    env = _templates()
    env.globals.update(allow_writes=allow_writes, catalog_name=shared.directory.name)

    def render(request: Request, template: str, data: dict, status: int = 200) -> HTMLResponse:
        html = env.get_template(template).render(request=request, with_page=lambda n: _with_page(request, n), **data)
        return HTMLResponse(html, status_code=status)

    def page_and_api(template: str, produce: Callable[[Request], dict]) -> tuple[Callable, Callable]:
        """Two endpoints over one producer: the HTML page and its JSON twin."""
        def html(request: Request) -> Response:
            return render(request, template, produce(request))

        def api(request: Request) -> Response:
            data = produce(request)
            return json_response(next(iter(data.values())) if len(data) == 1 else data)  # one thing: itself

        return html, api

    # ------------------------------------------------------------------------ producers
    def home(request: Request) -> dict:
        return shared.read(views.home)

    def dataset(request: Request) -> dict:
        params = QueryParams.of(request.query_params)
        page, size = params.integer("page", 1), params.integer("size", 50, high=1000)
        status = params.choice("status", ("active", "removed"))
        name = request.path_params["name"]
        return shared.read(lambda cat: views.dataset(cat, name, page=page, size=size, status=status))

    def record(request: Request) -> dict:
        record_id = path_id(request.path_params["record_id"], "record")
        if record_id is None:
            raise HttpProblem(404, f"no record with id {request.path_params['record_id'][:40]}")
        return shared.read(lambda cat: views.record(cat, record_id))

    def dedup_runs(request: Request) -> dict:
        return {"dedup_runs": shared.read(lambda cat: cat.dedup_runs())}

    def dedup_run(request: Request) -> dict:
        run_id = path_id(request.path_params["run_id"], "dedup run")
        if run_id is None:
            raise HttpProblem(404, f"unknown dedup run {request.path_params['run_id'][:40]}")
        params = QueryParams.of(request.query_params)
        page, size = params.integer("page", 1), params.integer("size", 20, high=1000)
        return shared.read(lambda cat: views.dedup_run(cat, run_id, page=page, size=size))

    def evaluations(request: Request) -> dict:
        return {"evaluations": shared.read(lambda cat: cat.evaluations())}

    def evaluation(request: Request) -> dict:
        evaluation_id = path_id(request.path_params["evaluation_id"], "evaluation")
        if evaluation_id is None:
            raise HttpProblem(404, f"no evaluation with id {request.path_params['evaluation_id'][:40]}")
        return shared.read(lambda cat: views.evaluation(cat, evaluation_id))

    def search(request: Request) -> dict:
        query, k, settings = search_settings(QueryParams.of(request.query_params))
        shared.read(lambda cat: views.check_search_filters(cat, settings))
        hits = shared.search(query, k, settings) if query else []
        return {"query": query, "k": k, "settings": settings, "hits": hits}

    # ------------------------------------------------------------------------ endpoints
    def search_page(request: Request) -> Response:
        options = shared.read(views.search_options)
        try:
            data = search(request)
        except SynthcatError as exc:
            status = 400 if isinstance(exc, (BadInput, UnknownDataset)) else status_for(exc)
            return render(request, "search.html", {**options, "query": request.query_params.get("q"), "hits": [],
                                                   "error": web_message(str(exc))}, status=status)
        return render(request, "search.html", {**options, **data, "error": None})

    def search_api(request: Request) -> Response:
        data = search(request)
        return json_response({"query": data["query"], "k": data["k"], "filters": data["settings"],
                              "hits": data["hits"]})

    async def undo(request: Request) -> Response:
        run_id = path_id(request.path_params["run_id"], "dedup run")
        if run_id is None:
            raise HttpProblem(404, f"unknown dedup run {request.path_params['run_id'][:40]}")
        if not allow_writes:
            raise HttpProblem(403, "this server is read-only: start it with `synthcat serve --allow-writes` to "
                                   "undo dedup runs")
        given = request.headers.get("x-synthcat-token") or (await _form(request)).get("token", "")
        if not hmac.compare_digest(given.encode(), str(token).encode()):
            raise HttpProblem(403, "wrong or missing token: use the token `synthcat serve --allow-writes` printed")

        def run_undo(cat):
            runs = {r.run_id: r for r in cat.dedup_runs()}
            if run_id not in runs:
                raise UnknownItem(f"unknown dedup run {run_id}")
            if runs[run_id].undone_at:
                raise HttpProblem(409, f"dedup run {run_id} was already undone at {runs[run_id].undone_at}")
            return cat.undo_dedup(run_id)

        result = await run_in_threadpool(shared.write, run_undo)
        if request.url.path.startswith("/api/"):
            return json_response(result)
        return RedirectResponse(f"/dedup/{run_id}?undone={result.restored}", status_code=303)

    async def on_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, message = exc.status_code, {404: "no such page", 405: "method not allowed"}.get(
                exc.status_code, str(exc.detail))
        else:
            status, message = status_for(exc), web_message(str(exc))
        if request.url.path.startswith("/api/"):
            return json_response({"error": message, "status": status}, status=status)
        return render(request, "error.html", {"status": status, "message": message}, status=status)

    pages = {name: page_and_api(template, fn) for name, template, fn in (
        ("home", "home.html", home), ("dataset", "dataset.html", dataset), ("record", "record.html", record),
        ("runs", "dedup_runs.html", dedup_runs), ("run", "dedup_run.html", dedup_run),
        ("evaluations", "evaluations.html", evaluations), ("evaluation", "evaluation.html", evaluation))}
    routes = [
        Route("/", pages["home"][0]),
        Route("/datasets", lambda request: RedirectResponse("/", status_code=308)),
        Route("/datasets/{name}", pages["dataset"][0]),
        Route("/records/{record_id}", pages["record"][0]),
        Route("/search", search_page),
        Route("/dedup", pages["runs"][0]),
        Route("/dedup/{run_id}", pages["run"][0]),
        Route("/dedup/{run_id}/undo", undo, methods=["POST"]),
        Route("/evaluations", pages["evaluations"][0]),
        Route("/evaluations/{evaluation_id}", pages["evaluation"][0]),
        Route("/api/datasets", pages["home"][1]),
        Route("/api/datasets/{name}", pages["dataset"][1]),
        Route("/api/records/{record_id}", pages["record"][1]),
        Route("/api/search", search_api),
        Route("/api/dedup", pages["runs"][1]),
        Route("/api/dedup/{run_id}", pages["run"][1]),
        Route("/api/dedup/{run_id}/undo", undo, methods=["POST"]),
        Route("/api/evaluations", pages["evaluations"][1]),
        Route("/api/evaluations/{evaluation_id}", pages["evaluation"][1]),
        Mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static"),
    ]
    middleware = [Middleware(SecurityHeaders), Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        shared.close()  # let go of the catalog when the server stops

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={SynthcatError: on_error, HttpProblem: on_error, HTTPException: on_error})
    app.state.catalog = shared
    return app


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded POST body as a dict (the undo form carries only the token)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise HttpProblem(413, "request body too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise HttpProblem(400, "the form is not UTF-8") from None
    return {k: v[-1] for k, v in fields.items()}
