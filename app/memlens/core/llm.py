"""Optional language-model help (merge suggestions, conflict and support judges).

Talks to any OpenAI-compatible endpoint through the openai client. The base URL and model
come from what the window's settings say (`configure`), else the environment
(MEMLENS_LLM_BASE_URL or OPENAI_BASE_URL, MEMLENS_LLM_MODEL). The key is the one typed in
the window (kept in the system keyring, service "memlens", user "llm", when there is a
usable one, else for the session only), else MEMLENS_LLM_API_KEY / OPENAI_API_KEY; it is
never written to a file. Everything works without a model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

from memlens.core.record import MemoryRecord

DEFAULT_MODEL = "gpt-4o-mini"
KEYRING_SERVICE, KEYRING_USER = "memlens", "llm"
KEYRING, SESSION = "keyring", "session"  # where `save_key` kept a key

_settings: dict = {"base_url": None, "model": None, "keyring_key": False}
_session_key: str | None = None


class LLMError(Exception):
    """The model could not be asked or answered nonsense; the message says which."""


def configure(base_url: str | None = None, model: str | None = None, keyring_key: bool = False) -> None:
    """What the window's settings say (empty: the environment decides). `keyring_key`: a
    key was saved in the system keyring, to be read when a model is first asked."""
    _settings.update(base_url=base_url or None, model=model or None, keyring_key=keyring_key)


def _keyring():
    try:
        import keyring  # not every desktop has a keyring backend
    except ImportError:
        return None
    return keyring


def keyring_backend() -> str | None:
    """The name of the system keyring a key would be kept in, or None when there is none
    that keeps secrets encrypted (no backend, or only keyrings.alt's files)."""
    keyring = _keyring()
    if keyring is None:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration is no keyring
        return None
    for b in getattr(backend, "backends", None) or [backend]:
        module = type(b).__module__
        secure = not module.startswith(("keyrings.alt", "keyring.backends.fail", "keyring.backends.null"))
        if secure and getattr(b, "priority", 0) >= 1:
            return getattr(b, "name", type(b).__name__)
    return None


_read: dict[str, str | None] = {}  # the keyring's answer, asked once: it may prompt to unlock


def _keyring_key() -> str | None:
    if "key" not in _read:
        keyring = _keyring() if keyring_backend() else None
        try:
            _read["key"] = keyring.get_password(KEYRING_SERVICE, KEYRING_USER) if keyring else None
        except Exception:  # a locked or absent backend just means "no key stored"
            _read["key"] = None
    return _read["key"]


def save_key(key: str | None) -> str:
    """Keep the key the user typed: in the system keyring when there is a usable one
    (returns KEYRING), else in this process only (returns SESSION). An empty key forgets
    the one kept. Never written to a file."""
    global _session_key
    _session_key = key or None
    _read["key"] = None  # the keyring's copy is the one just set (or none)
    keyring = _keyring() if keyring_backend() else None
    if keyring is None:
        return SESSION
    try:
        if key:
            keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
        elif keyring.get_password(KEYRING_SERVICE, KEYRING_USER) is not None:
            keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception:  # locked, or refused by the user: the session copy still works
        return SESSION
    return KEYRING


def kept_key() -> str | None:
    """The key typed in MemLens: this session's, else the keyring's."""
    return _session_key or _keyring_key()


def _yes(value: object) -> bool:
    """A JSON answer's true, also when a model writes it as a string ("false" is no)."""
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))


@dataclass(frozen=True)
class LLMConfig:
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    api_key: str | None = None
    timeout: float = 30.0
    key_in_keyring: bool = False  # api_key is still to be read from the keyring (`resolved`)

    @classmethod
    def current(cls, read_keyring: bool = True) -> LLMConfig:
        """The settings, the key kept by MemLens, then the environment.

        The window passes `read_keyring=False`: asking the keyring imports its backends
        (a quarter of a second) and may wait for the user to unlock it, which the GUI
        thread must not do; the key is then read by `resolved()` on a worker thread.
        """
        env = os.environ
        kept = kept_key() if read_keyring else _session_key or _read.get("key")
        key = kept or env.get("MEMLENS_LLM_API_KEY") or env.get("OPENAI_API_KEY")
        return cls(
            base_url=_settings["base_url"] or env.get("MEMLENS_LLM_BASE_URL") or env.get("OPENAI_BASE_URL"),
            model=_settings["model"] or env.get("MEMLENS_LLM_MODEL") or DEFAULT_MODEL,
            api_key=key,
            key_in_keyring=not key and not read_keyring and bool(_settings["keyring_key"]),
        )

    def resolved(self) -> LLMConfig:
        """With the key read from the keyring if it was left to read (may block)."""
        if not self.key_in_keyring:
            return self
        return replace(self, api_key=_keyring_key(), key_in_keyring=False)

    @property
    def configured(self) -> bool:
        return bool(self.api_key or self.base_url or self.key_in_keyring)


class LLM:
    def __init__(self, config: LLMConfig) -> None:
        from openai import OpenAI

        config = config.resolved()  # made on a worker thread: the keyring may be asked here
        self.config = config
        # Local servers often need no key; the client insists on one, so give it a placeholder.
        self._client = OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "not-needed",
            timeout=config.timeout,
            max_retries=1,
        )

    def _ask(self, system: str, user: str, json_reply: bool) -> str:
        from openai import OpenAIError

        try:
            reply = self._client.chat.completions.create(
                model=self.config.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                temperature=0,
                **({"response_format": {"type": "json_object"}} if json_reply else {}),
            )
        except OpenAIError as exc:
            where = self.config.base_url or "the OpenAI API"
            raise LLMError(f"The language model at {where} could not be asked: {exc}") from None
        content = reply.choices[0].message.content if reply.choices else None
        if not content:
            raise LLMError("The language model returned an empty answer.")
        return content

    def _ask_json(self, system: str, user: str) -> dict:
        text = self._ask(system, user, json_reply=True)
        try:
            data = json.loads(text)
        except ValueError:
            raise LLMError(f"The language model did not answer in JSON: {text[:200]!r}") from None
        if not isinstance(data, dict):
            raise LLMError("The language model's JSON answer is not an object.")
        return data

    def ping(self) -> str:
        """A one-word question, to check the settings reach a model that answers."""
        return self._ask("Answer with one word.", "Say OK.", json_reply=False).strip()

    def suggest_merge(self, texts: list[str]) -> str:
        listing = "\n".join(f"- {t}" for t in texts)
        return self._ask(
            "You merge near-duplicate memories of an AI assistant into one memory. Keep every fact that "
            "appears in any of them, drop repetition, and answer with the merged memory text only.",
            f"Memories:\n{listing}",
            json_reply=False,
        ).strip()

    def judge_conflict(self, a: str, b: str) -> tuple[bool, str]:
        data = self._ask_json(
            'Do these two memories contradict each other? Answer JSON {"contradiction": true|false, '
            '"reason": "..."}.',
            f"A: {a}\nB: {b}",
        )
        return _yes(data.get("contradiction")), str(data.get("reason", ""))

    def judge_support(self, memory: str, turns: list[str]) -> tuple[bool, str]:
        source = "\n".join(f"- {t}" for t in turns)
        data = self._ask_json(
            'Is the memory fully supported by the conversation turns? Answer JSON {"supported": true|false, '
            '"reason": "..."}.',
            f"Memory: {memory}\nTurns:\n{source}",
        )
        return _yes(data.get("supported")), str(data.get("reason", ""))

    # The judges as review_queue and find_conflicts call them, on records.
    def supports(self, record: MemoryRecord, turns: list[str]) -> tuple[bool, str]:
        return self.judge_support(record.text, turns)

    def contradicts(self, a: MemoryRecord, b: MemoryRecord) -> tuple[bool, str]:
        return self.judge_conflict(a.text, b.text)
