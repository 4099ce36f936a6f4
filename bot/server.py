"""The FastAPI app: POST /webhook, GET /healthz, GET /metrics; a dispatcher thread does the handling.

Intake answers within milliseconds (verify, record, enqueue); the `DeliveryDispatcher` thread builds a
Context per delivery with that installation's client and runs the router. Deliveries accepted but
not handled before a shutdown stay `queued` in SQLite and are re-queued at the next start.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.commands.throttle import ReplyThrottle
from bot.context import Context, Event
from bot.deliveries import DeliveryStore, Pending
from bot.intake import RETRY_AFTER_S, BoundedBody, ByteBudget, IntakeRefused
from bot.metrics import Metrics
from bot.router import Router
from bot.routes import default_router
from bot.settings import AppSettings
from bot.storage import StoreBusy
from bot.webhook import accept
from lab.github.protocol import ClientFactory

LOG = logging.getLogger("arborist.server")
REPLIES_DB = "replies.sqlite3"  # when the bot last answered a stranger on each PR (bot.commands.throttle)
DRAIN_SECONDS = 20.0  # how long shutdown waits for queued deliveries before leaving them for next start


class DeliveryDispatcher:
    """One background thread that hands queued deliveries to the router, in order.

    (Not to be confused with `bot.jobs.worker.Worker`, the process that runs jobs.)
    """

    def __init__(self, store: DeliveryStore, router: Router, client_factory: ClientFactory, settings: AppSettings,
                 metrics: Metrics, jobs: Any = None, queue_size: int = 1000, replies: Any = None):
        self.store, self.router, self.client_factory = store, router, client_factory
        self.settings, self.metrics, self.jobs, self.replies = settings, metrics, jobs, replies
        self.queue: queue.Queue[Pending | None] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self.idle = threading.Event()
        self.idle.set()

    def start(self) -> None:
        for pending in self.store.pending():  # left over from a previous run
            self.submit(pending)
        self._thread = threading.Thread(target=self._run, name="arborist-deliveries", daemon=True)
        self._thread.start()

    def submit(self, pending: Pending) -> bool:
        try:
            self.queue.put_nowait(pending)
        except queue.Full:
            return False
        self.idle.clear()
        self.metrics.set("arborist_queue_depth", self.queue.qsize())
        return True

    def stop(self, timeout: float = DRAIN_SECONDS) -> None:
        """Drain what is queued (bounded), then stop; anything left stays `queued` in the store."""
        if self._thread is None:
            return
        deadline = time.monotonic() + timeout
        while not self.queue.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            self.queue.put(None, timeout=max(0.1, deadline - time.monotonic()))
        except queue.Full:
            LOG.warning("shutdown: %d deliveries left queued for the next start", self.queue.qsize())
        self._thread.join(timeout=max(0.1, deadline - time.monotonic()) + 5)
        self._thread = None

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """For tests and the demo: block until every submitted delivery has been handled."""
        return self.idle.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            try:
                self.handle(item)
            except Exception:  # noqa: BLE001 - e.g. the delivery log locked: the row stays queued for next start
                LOG.exception("delivery %s could not be recorded as handled", item.delivery_id)
            finally:
                self.metrics.set("arborist_queue_depth", self.queue.qsize())
                if self.queue.empty():
                    self.idle.set()

    def handle(self, pending: Pending) -> None:
        try:
            payload = pending.payload if pending.payload is not None else json.loads(pending.body)
            event = Event.from_delivery(pending.event, pending.delivery_id, payload)
            ctx = Context(github=self.client_factory(event.installation_id), settings=self.settings,
                          metrics=self.metrics, jobs=self.jobs, replies=self.replies)
            outcomes = self.router.dispatch(event, ctx)
        except Exception as exc:  # noqa: BLE001 - a broken delivery is recorded, the thread lives on
            LOG.exception("delivery %s (%s) failed before its handlers ran", pending.delivery_id, pending.event)
            self.store.finish(pending.delivery_id, "failed", f"{type(exc).__name__}: {exc}")
            self.metrics.delivery(pending.event, "failed")
            return
        failed = [o for o in outcomes if not o.ok]
        self.store.finish(pending.delivery_id, "failed" if failed else "done", "; ".join(o.error for o in failed))
        self.metrics.delivery(pending.event, "failed" if failed else "handled")


def _webhook_route(settings: AppSettings, store: DeliveryStore, dispatcher: DeliveryDispatcher, metrics: Metrics,
                   router: Router,
                   budget: ByteBudget) -> Callable[..., Any]:
    """POST /webhook: a bounded body, then verify/record/decide in a thread (SQLite must not block the loop)."""
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request

    def wanted(event: str, action: str | None) -> bool:
        return bool(router.handlers(event, action))

    async def webhook(request: Request) -> JSONResponse:
        try:
            async with BoundedBody(request, settings.max_body_bytes, budget) as body:
                headers = {k.lower(): v for k, v in request.headers.items()}
                decision = await run_in_threadpool(accept, headers, body, secret=settings.webhook_secret,
                                                   max_body_bytes=settings.max_body_bytes, record=store.record,
                                                   wanted=wanted)
        except IntakeRefused as refused:
            metrics.delivery("-", refused.outcome)
            return JSONResponse({"error": refused.message}, status_code=refused.status, headers=refused.headers)
        except StoreBusy:
            LOG.warning("deliveries database locked: answered 503, the delivery can be redelivered")
            metrics.delivery("-", "store_busy")
            return JSONResponse({"error": "busy: the delivery log is locked; redeliver later"}, status_code=503,
                                headers={"Retry-After": RETRY_AFTER_S})
        if decision.enqueue is not None:
            event, delivery, raw = decision.enqueue
            if not dispatcher.submit(Pending(delivery, event, raw, decision.payload)):
                await run_in_threadpool(store.forget, delivery)
                metrics.delivery(event, "queue_full")
                return JSONResponse({"error": "busy: too many deliveries queued; redeliver later"},
                                    status_code=503, headers={"Retry-After": RETRY_AFTER_S})
        metrics.delivery(decision.event, decision.outcome)
        return JSONResponse(decision.body, status_code=decision.status)

    return webhook


def create_app(settings: AppSettings, client_factory: ClientFactory, *, router: Router | None = None,
               store: DeliveryStore | None = None, metrics: Metrics | None = None, jobs: Any = None,
               on_started: Callable[[DeliveryDispatcher], None] | None = None):
    """Build the ASGI app; the delivery dispatcher starts and stops with the app's lifespan."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    router = router or default_router()
    metrics = metrics or Metrics()
    store = store or DeliveryStore(settings.deliveries_db)
    replies = ReplyThrottle(settings.data_dir / REPLIES_DB)
    dispatcher = DeliveryDispatcher(store, router, client_factory, settings, metrics, jobs, settings.queue_size,
                                    replies)
    budget = ByteBudget(max(settings.buffered_bytes, 2 * settings.max_body_bytes))  # a body and its chunks

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        dispatcher.start()
        if on_started:
            on_started(dispatcher)
        try:
            yield
        finally:
            dispatcher.stop()

    app = FastAPI(title="Arborist", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.dispatcher, app.state.store, app.state.metrics = dispatcher, store, metrics

    webhook = _webhook_route(settings, store, dispatcher, metrics, router, budget)
    app.router.add_route("/webhook", webhook, methods=["POST"])  # plain Starlette: raw body, no validation layer

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:  # async: answered on the loop, never waiting for a thread
        return {"status": "ok", "queued": dispatcher.queue.qsize()}

    @app.get("/metrics")
    def metrics_endpoint() -> PlainTextResponse:
        if jobs is not None:
            from bot.status_page import export_gauges, read_status
            export_gauges(metrics, read_status(jobs.store, getattr(jobs, "heartbeats", None)))
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    _add_status_route(app, settings, jobs)

    @app.get("/jobs/{job_id}/log")
    def job_log(job_id: int) -> PlainTextResponse:
        """The log link of a status comment (ARBORIST_PUBLIC_URL); logs were masked by the worker."""
        from bot.jobs.logs import read_job_log

        executor = getattr(jobs, "executor", None)  # the job service's: its logs call knows where they are
        text = executor.logs(job_id) if executor is not None else read_job_log(settings.data_dir / "logs", job_id)
        if text is None:
            return PlainTextResponse(f"no log for job {job_id}\n", status_code=404)
        return PlainTextResponse(text)

    return app


def _add_status_route(app: Any, settings: AppSettings, jobs: Any) -> None:
    """GET /status: the triager's read-only page (bot.status_page); 404 when this bot runs no jobs."""
    from fastapi.responses import HTMLResponse

    from bot.status_page import named_repos_from, read_status, render_main, render_page

    named = named_repos_from(settings.status_repos)

    @app.get("/status")
    def status(part: str = "") -> HTMLResponse:
        if jobs is None:
            return HTMLResponse("<p>This bot runs no jobs.</p>", status_code=404)
        data = read_status(jobs.store, getattr(jobs, "heartbeats", None))
        body = render_main(data, named) if part == "main" else render_page(data, named)
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})
