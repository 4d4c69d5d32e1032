"""Where a Chroma server is and how to talk to it: URL, tenant, database, auth token.

Kept apart from the Chroma adapter so the CLI and the connect dialog can parse and show
an address without importing chromadb. The token is never part of `location` (which
names journal files and shows in the window and in Open Recent).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN_ENV = "MEMLENS_CHROMA_TOKEN"
DEFAULT_TENANT = "default_tenant"
DEFAULT_DATABASE = "default_database"
AUTHORIZATION = "Authorization"  # sent as "Bearer <token>"
X_CHROMA_TOKEN = "X-Chroma-Token"  # sent as the bare token
TOKEN_HEADERS = (AUTHORIZATION, X_CHROMA_TOKEN)
DEFAULT_PORTS = {"http": 8000, "https": 443}


def is_server_location(text: str) -> bool:
    """True for an address MemLens can connect to (http:// or https://), not a folder."""
    return text.strip().lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class ServerSpec:
    host: str
    port: int
    ssl: bool = False
    tenant: str = DEFAULT_TENANT
    database: str = DEFAULT_DATABASE
    token: str | None = None
    token_header: str = AUTHORIZATION

    @classmethod
    def parse(
        cls,
        url: str,
        tenant: str | None = None,
        database: str | None = None,
        token: str | None = None,
        token_header: str | None = None,
    ) -> ServerSpec:
        """Read `http[s]://host[:port][/tenant/database]`; explicit arguments win over the path.

        The token falls back to $MEMLENS_CHROMA_TOKEN. Raises ValueError with what is wrong.
        """
        text = url.strip()
        if "://" not in text:
            text = "http://" + text
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"{url!r}: a Chroma server address starts with http:// or https://")
        if not parts.hostname:
            raise ValueError(f"{url!r}: no host name")
        try:
            port = parts.port or DEFAULT_PORTS[scheme]
        except ValueError:
            raise ValueError(f"{url!r}: the port must be a number from 1 to 65535") from None
        path = [p for p in parts.path.split("/") if p]
        if len(path) not in (0, 2):
            raise ValueError(f"{url!r}: the path, if any, must be /TENANT/DATABASE")
        header = token_header or AUTHORIZATION
        if header not in TOKEN_HEADERS:
            raise ValueError(f"token header must be one of {', '.join(TOKEN_HEADERS)}, not {header!r}")
        return cls(
            host=parts.hostname,
            port=port,
            ssl=scheme == "https",
            tenant=tenant or (path[0] if path else DEFAULT_TENANT),
            database=database or (path[1] if path else DEFAULT_DATABASE),
            token=token or os.environ.get(TOKEN_ENV) or None,
            token_header=header,
        )

    @property
    def base_url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"

    @property
    def location(self) -> str:
        """The store's name in the window, in Open Recent and for its journal file."""
        if (self.tenant, self.database) == (DEFAULT_TENANT, DEFAULT_DATABASE):
            return self.base_url
        return f"{self.base_url}/{self.tenant}/{self.database}"

    def headers(self) -> dict[str, str]:
        if not self.token:
            return {}
        if self.token_header == AUTHORIZATION:
            return {AUTHORIZATION: f"Bearer {self.token}"}
        return {self.token_header: self.token}
