"""The window's embedder: the real model, loaded and run in a child process."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from memlens.core.embedder import EmbedderError, SentenceTransformerEmbedder
from memlens.core.embedder_process import MODEL_NICENESS, ProcessEmbedder

TEXTS = ["Dan's dog is called Biscuit.", "Alice runs the Lyon half marathon.", "<b>not bold</b>"]

# Runs as the window's process would: it must get the model's vectors without torch.
CHILD_SCRIPT = """
import json, sys
import numpy as np
from memlens.core.embedder_process import ProcessEmbedder

if __name__ == "__main__":
    embedder = ProcessEmbedder()
    vectors = embedder.encode(json.loads(sys.argv[1]))
    np.save(sys.argv[2], vectors)
    print(json.dumps({"torch": "torch" in sys.modules, "st": "sentence_transformers" in sys.modules,
                      "dimension": embedder.dimension}))
    embedder.close()
"""


@pytest.fixture(scope="module")
def process_embedder():
    embedder = ProcessEmbedder()
    yield embedder
    embedder.close()


def test_vectors_are_the_models_own_and_the_calling_process_never_imports_torch(tmp_path, embedder):
    script = tmp_path / "window.py"
    script.write_text(CHILD_SCRIPT)
    out = tmp_path / "vectors.npy"
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(TEXTS), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"torch": False, "st": False, "dimension": 384}
    assert np.allclose(np.load(out), embedder.encode(TEXTS), atol=1e-5)


def test_a_query_is_answered_while_a_large_batch_is_still_embedding(process_embedder):
    process_embedder.load()
    finished: list[str] = []
    bulk = threading.Thread(
        target=lambda: (
            process_embedder.encode([f"memory number {i} " * 20 for i in range(300)]),
            finished.append("bulk"),
        )
    )
    bulk.start()
    time.sleep(0.3)  # the batch is in the child by now
    vector = process_embedder.encode(["which pet does Dan have"])
    finished.append("query")
    bulk.join()
    assert vector.shape == (1, 384)
    assert finished == ["query", "bulk"]


def test_a_killed_model_process_is_started_again_on_the_next_request(process_embedder):
    process_embedder.load()
    first = process_embedder.pid
    os.kill(first, signal.SIGKILL)
    vector = process_embedder.encode(["still searchable"])
    assert vector.shape == (1, 384)
    assert process_embedder.pid not in (None, first)
    assert process_embedder.starts == 2


def test_the_model_yields_the_cpu_to_the_window(process_embedder):
    # Its threads (torch's included, made after the change) run below the window's
    # priority: an import's encoding does not slow the window's own work.
    process_embedder.encode(["warm up"])
    pid = process_embedder.pid
    threads = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    window = os.getpriority(os.PRIO_PROCESS, 0)
    assert all(os.getpriority(os.PRIO_PROCESS, t) >= min(19, window + MODEL_NICENESS) for t in threads)
    assert len(threads) > 1


def test_close_ends_the_model_process(process_embedder):
    process_embedder.load()
    pid = process_embedder.pid
    process_embedder.close()
    assert not process_embedder.loaded
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _not_a_model(tmp_path):
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "modules.json").write_text("this is not json")
    return str(folder)


def test_a_folder_that_is_not_a_model_is_refused_with_its_path(tmp_path):
    with pytest.raises(EmbedderError, match=r"Cannot load the embedding model .*not-a-model"):
        SentenceTransformerEmbedder(_not_a_model(tmp_path)).encode(["x"])


def test_the_model_process_reports_a_model_that_cannot_load_and_does_not_retry(tmp_path):
    embedder = ProcessEmbedder(_not_a_model(tmp_path))
    with pytest.raises(EmbedderError, match=r"Cannot load the embedding model .*not-a-model"):
        embedder.encode(["x"])
    with pytest.raises(EmbedderError, match="not-a-model"):
        embedder.encode(["x"])
    assert embedder.starts == 1
    assert not embedder.loaded
