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
