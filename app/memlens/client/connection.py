"""Where an agent finds MemLens: its address and the per-install token.

MemLens makes the token once, on first use, and keeps it in the system keyring when one
with a real backend is installed (Windows Credential Locker, macOS Keychain, Secret
Service or KWallet), else in its data folder in a file only its owner may read; it writes
its address there each time it listens. So an agent on the same machine connects with no
arguments. Environment variables override both, arguments override everything. Stdlib
only (platformdirs and keyring when installed), like the rest of the client.
"""

from __future__ import annotations

import contextlib
import json
import logging
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
#: The token's keyring entry: this service, and the ingest folder as the user name (one
#: token per MemLens data folder, as with the file).
KEYRING_SERVICE = "memlens-ingest"

log = logging.getLogger("memlens.client")


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


def _file_token(path: Path) -> str | None:
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def _keyring():
    """The keyring module when it has a backend that really keeps secrets, else None.
    keyring's stand-ins ("fail", "null") and plain-text files rank below 1; those get the
    owner-only file instead, which is no worse and which `cat` can read."""
    try:
        import keyring

        backend = keyring.get_keyring()
        return keyring if float(getattr(backend, "priority", 0)) >= 1 else None
    except Exception:  # not installed, or a backend that fails to start: the file it is
        return None


def _ring_name() -> str:
    return str(ingest_dir())


def _keyring_token() -> str | None:
    ring = _keyring()
    if ring is None:
        return None
    try:
        return ring.get_password(KEYRING_SERVICE, _ring_name()) or None
    except Exception:  # a locked or broken keyring: as if there were none
        return None


def read_token(path: Path | None = None) -> str | None:
    """The saved token (its file, else its keyring entry), or None when MemLens has not
    made one yet (or it cannot be read). The keyring may be slow: not on an agent's own
    thread (the client asks from its sending thread)."""
    if path is not None:
        return _file_token(path)
    return _file_token(token_path()) or _keyring_token()


def token_location() -> str:
    """Where the token is kept, for people: the file's path, or the keyring entry."""
    if _file_token(token_path()) is None and _keyring_token() is not None:
        return f"the system keyring (service {KEYRING_SERVICE!r}, user {_ring_name()!r})"
    return str(token_path())


def ensure_token(path: Path | None = None) -> str:
    """The per-install token, made on first use: 256 random bits. Kept where one already
    is; a new one goes to the system keyring when it has a real backend, else to a file
    only its owner may read (the folder too). A file others can read is tightened."""
    explicit = path is not None
    path = path or token_path()
    token = _file_token(path)
    if token:
        for where, mode in ((path.parent, 0o700), (path, 0o600)):
            with contextlib.suppress(OSError):  # not every file system has POSIX permissions
                os.chmod(where, mode)
        return token
    ring = None if explicit else _keyring()
    if ring is not None:
        token = _keyring_token()
        if token:
            return token
        try:
            ring.set_password(KEYRING_SERVICE, _ring_name(), secrets.token_urlsafe(32))
            token = ring.get_password(KEYRING_SERVICE, _ring_name())  # another process may have won
        except Exception as exc:
            log.warning("MemLens: the keyring did not keep the ingest token (%s); using %s.", exc, path)
        if token:
            return token
    return _make_token_file(path)


def _make_token_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # not every file system has POSIX permissions
        os.chmod(path.parent, 0o700)
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
    return _file_token(path) or token


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
    """(url, token, token_kept): arguments, else MEMLENS_URL / MEMLENS_TOKEN, else what
    MemLens wrote. A kept token is read again when sending (MemLens may start after the
    agent and make it then), and only then from the keyring, which may be slow."""
    url = url or os.environ.get(URL_ENV) or read_endpoint() or default_url()
    if token:
        return url.rstrip("/"), token, False
    env = os.environ.get(TOKEN_ENV)
    if env:
        return url.rstrip("/"), env, False
    return url.rstrip("/"), _file_token(token_path()), True
