"""MemLens' ingest endpoint: agents in other processes stream their sessions into MemLens.

An agent reports with `memlens.client` (a few lines), or with no MemLens code at all by
pointing its OpenTelemetry exporter at `/v1/traces` (OpenInference retriever spans,
GenAI memory spans). What arrives appears in the Sessions panel as it happens, and every
retrieval is kept as a trace of the open collection. See docs/LIVE_AGENTS.md.

The endpoint listens only when asked: the Sessions panel's button, `memlens serve`, or
the "Start with MemLens" setting.
"""

from __future__ import annotations

import ipaddress
import threading

from memlens.client import connection
from memlens.plugin_api import Plugin, PluginContext, Setting
from memlens_ingest.delivery import Delivery
from memlens_ingest.endpoint import DEFAULT_MAX_BODY, DEFAULT_QUEUE, IngestEndpoint, probe

__version__ = "1.0"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class IngestPlugin(Plugin):
    """Lets agents in other processes (memlens.client, the Mem0 wrapper, OpenTelemetry
    exporters) stream their sessions, memory writes and retrievals into MemLens."""

    settings_schema = (
        Setting("host", "Address", connection.DEFAULT_HOST, "127.0.0.1: this machine only"),
        Setting("port", "Port", connection.DEFAULT_PORT, "0: any free port"),
        Setting("autostart", "Start with MemLens", False, "listen as soon as MemLens starts"),
        Setting("max_body", "Largest request (bytes)", DEFAULT_MAX_BODY, "bigger requests get HTTP 413"),
        Setting("queue", "Queue (events)", DEFAULT_QUEUE, "when full, agents are told to retry (HTTP 503)"),
    )

    def __init__(self) -> None:
        self.context: PluginContext | None = None
        self.endpoint: IngestEndpoint | None = None
        self.delivery: Delivery | None = None
        self._token: str | None = None
        self._lock = threading.Lock()

    def activate(self, context: PluginContext) -> None:
        self.context = context
        if context.settings.get("autostart"):
            self.start()

    def deactivate(self) -> None:
        self.stop()

    # -- what the Sessions panel (or `memlens serve`) calls -----------------------------------
    @property
    def running(self) -> bool:
        return self.endpoint is not None and self.endpoint.running

    @property
    def url(self) -> str | None:
        return self.endpoint.url if self.running else None

    @property
    def token(self) -> str:
        """The per-install token agents must send (made on first use, kept in the system
        keyring or an owner-only file). Remembered: a keyring may be slow to ask."""
        if self._token is None:
            self._token = connection.ensure_token()
        return self._token

    @property
    def token_location(self) -> str:
        return connection.token_location()

    def start(self) -> str:
        """Listen for agents; returns the URL. Raises OSError naming the port when it is taken."""
        context = self._context()
        with self._lock:
            if self.running:
                return self.url or ""
            settings = context.settings
            host, port = str(settings.get("host")), int(settings.get("port"))
            delivery = Delivery(context.store, context.events)
            endpoint = IngestEndpoint(
                self.token,
                delivery,
                host,
                port,
                max_body=int(settings.get("max_body")),
                queue_size=int(settings.get("queue")),
                collection=lambda: context.store.collection if context.store.available else None,
            )
            try:
                url = endpoint.start()
            except OSError as exc:
                taken = f"http://{host}:{port}"
                if probe(taken):
                    raise OSError(
                        exc.errno, f"another MemLens already listens for agents on {taken}"
                    ) from None
                raise
            self.endpoint, self.delivery = endpoint, delivery
        connection.write_endpoint(url)
        where = "" if _loopback(host) else " (reachable from other machines: keep the token secret)"
        context.notify(f"Listening for agents on {url}{where}; token in {self.token_location}.")
        context.log.info("ingest endpoint listening on %s", url)
        return url

    def stop(self) -> None:
        with self._lock:
            endpoint, self.endpoint = self.endpoint, None
        if endpoint is not None:
            endpoint.stop()
            connection.clear_endpoint(endpoint.url)
            if self.context is not None:
                self.context.log.info("ingest endpoint on %s stopped", endpoint.url)

    def _context(self) -> PluginContext:
        if self.context is None:
            raise RuntimeError("the ingest plugin is not active")
        return self.context
