"""After a store folder opens: claim it for this window, and warn when another process
(an agent, another MemLens) has the same embedded store open (see core/store_lock.py).

Looking means reading /proc, so it runs on a worker; the warning goes to the window's
banner. A server store needs neither: a Chroma server is made for many clients.
"""

from __future__ import annotations

from typing import Any

from memlens.core.store_lock import claim, shared_store_warning


def check_shared_store(window: Any, backend: Any) -> None:
    """Call when `window` has opened `backend` (a ChromaBackend); replaces the window's
    previous claim, if any."""
    old = getattr(window, "_store_claim", None)
    if old is not None:
        old.release()
    window._store_claim = None
    if not backend.is_local:
        return
    location = backend.location

    def work(_ctx) -> tuple[Any, str | None]:
        return claim(location), shared_store_warning(location)

    def done(result: tuple[Any, str | None]) -> None:
        window._store_claim, warning = result
        if warning:
            window.show_error(warning)

    window.workers.read("Checking who else has the store open", work, done)
