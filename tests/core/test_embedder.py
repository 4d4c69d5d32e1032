"""The embedder cuts what the model would never read before tokenizing it (a 10 MB memory
took 40 s to tokenize): the vectors of long memories stay exactly the model's own."""

from __future__ import annotations

import numpy as np
import pytest

from memlens.core.embedder import CHARS_PER_TOKEN


def long_texts(limit: int) -> dict[str, str]:
    return {
        "words": " ".join(f"word{i % 997} and more text" for i in range(limit // 10)),
        "no spaces (CJK)": "记忆" * limit,
        "one endless word": "x" * (limit * 2),
    }


@pytest.mark.parametrize("kind", ["words", "no spaces (CJK)", "one endless word"])
def test_a_long_memory_gets_the_vector_the_model_itself_makes(embedder, kind):
    model = embedder.load()
    limit = model.max_seq_length * CHARS_PER_TOKEN
    text = long_texts(limit)[kind]
    assert len(text) > limit  # the cut happens
    ours = embedder.encode([text])[0]
    theirs = model.encode([text], show_progress_bar=False)[0]
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_batches_hold_about_the_same_number_of_tokens_and_every_text_once():
    from memlens.core.embedder import TOKENS_PER_BATCH, token_batches

    texts = ["short note"] * 300 + ["a long memory " * 80] * 40 + ["medium " * 30] * 50
    batches = token_batches(texts, most=64, max_tokens=256)
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))
    sizes = {len(texts[b[0]]): len(b) for b in batches}
    assert sizes[len("short note")] == 64  # short texts fill a whole batch
    assert max(len(b) for b in batches if len(texts[b[0]]) > 1000) == TOKENS_PER_BATCH // 256


def test_batching_by_length_keeps_each_texts_own_vector(embedder):
    texts = ["Alice likes tea.", "Bob " * 300, "Carol moved to Porto in 2021.", "x"]
    together = embedder.encode(texts)
    alone = [embedder.encode([t])[0] for t in texts]
    assert np.allclose(together, np.stack(alone), atol=1e-5)
