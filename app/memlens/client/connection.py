"""Where an agent finds MemLens: its address and the per-install token.

MemLens writes both into its data folder when the ingest endpoint starts (the token
once, owner-only; the address each time it listens), so an agent on the same machine
connects with no arguments. Environment variables override the files, arguments
override both. Stdlib only (platformdirs when installed), like the rest of the client.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
from pathlib import Path

APP_NAME = "MemLens"
DATA_DIR_ENV = "MEMLENS_DATA_DIR"
URL_ENV = "MEMLENS_URL"
TOKEN_ENV = "MEMLENS_TOKEN"
DEFAULT_HOST = "127.0.0.1"
#: Next to OTLP/HTTP's 4318, so that OpenTelemetry users recognise it.
DEFAULT_PORT = 4319
TOKEN_FILENAME = "token"
ENDPOINT_FILENAME = "endpoint.json"


def data_dir() -> Path:
    """MemLens' per-user data folder: the same rule as memlens.core.workspace.data_dir (tested)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    try:
        import platformdirs
    except ImportError:  # the agent's environment may lack it: platformdirs' defaults by hand
        if sys.platform == "darwin":
            return Path.home() / "Library" / "Application Support" / APP_NAME
        if sys.platform == "win32":
            return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / APP_NAME
        return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / APP_NAME
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def ingest_dir() -> Path:
    return data_dir() / "ingest"


def token_path() -> Path:
    return ingest_dir() / TOKEN_FILENAME


def endpoint_path() -> Path:
    return ingest_dir() / ENDPOINT_FILENAME


def default_url() -> str:
    return f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def read_token(path: Path | None = None) -> str | None:
    """The saved token, or None when MemLens has not made one yet (or it cannot be read)."""
    try:
        token = (path or token_path()).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def ensure_token(path: Path | None = None) -> str:
    """The per-install token, made on first use: 256 random bits, in a file only its owner
    may read (the folder too). A file others can read is tightened, not trusted less."""
    path = path or token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not every file system has POSIX permissions
        os.chmod(path.parent, 0o700)
    token = read_token(path)
    if token:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        return token
    token = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    try:
        os.link(tmp, path)  # fails if another process made one meanwhile: theirs wins
    except FileExistsError:
        pass
    except OSError:  # no hard links here (some file systems): a plain rename
        os.replace(tmp, path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    return read_token(path) or token


def write_endpoint(url: str, pid: int | None = None) -> Path:
    """Say where the running endpoint listens (read by `connect()` with no URL)."""
    path = endpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"url": url, "pid": pid or os.getpid()}), encoding="utf-8")
    os.replace(tmp, path)
    return path


def clear_endpoint(url: str) -> None:
    """Forget the address, unless another MemLens has written its own since."""
    path = endpoint_path()
    if read_endpoint() == url:
        with contextlib.suppress(OSError):
            path.unlink()


def read_endpoint() -> str | None:
    try:
        data = json.loads(endpoint_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) and url else None


def resolve(url: str | None = None, token: str | None = None) -> tuple[str, str | None, bool]:
    """(url, token, token_from_file): arguments, else MEMLENS_URL / MEMLENS_TOKEN, else the
    files MemLens wrote. A token read from the file may be read again later (MemLens may
    start after the agent and make it then)."""
    url = url or os.environ.get(URL_ENV) or read_endpoint() or default_url()
    if token:
        return url.rstrip("/"), token, False
    env = os.environ.get(TOKEN_ENV)
    if env:
        return url.rstrip("/"), env, False
    return url.rstrip("/"), read_token(), True
