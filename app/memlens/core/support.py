"""How well a memory is supported by the turns it was extracted from.

A hallucinated memory tends to say things its source never said: a name, a number, a
place that appears nowhere in the turns. The score combines

  similarity  the best cosine similarity between the memory and its turns (each turn,
              and all turns together), from the same embedding model as the store;
  overlap     the share of the memory's content words found in the turns;
  novel       names and numbers of the memory missing from the turns (each one costs).

score = 0.45·similarity + 0.35·overlap + 0.20·(1 − novel share), in [0, 1]; low is
suspect. Memories without source turns get no score (nothing to check against).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from memlens.core.embedder import Embedder
from memlens.core.record import MemoryRecord

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]+|\d+(?:[.,:]\d+)*")
_NUMBER = re.compile(r"\d")
_STOP = frozenset(
    """a an the and or but of to in on at for with from by as is are was were be been being it its
    this that these those he she they we you i his her their our your my me him them us has have had
    do does did not no so if then than there here also just very really about after before into over
    will would can could should may might must am who what when where which why how all any some more
    most other such only own same too s t""".split()  # noqa: SIM905 - a stop list reads best as prose
)


def _norm(word: str) -> str:
    return re.sub(r"['’]s$", "", word).casefold()


def content_words(text: str) -> set[str]:
    return {_norm(w) for w in _TOKEN.findall(text) if _norm(w) not in _STOP and len(w) > 1}


_NUMBER_TEXT = (
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred "
    "thousand first second third fourth fifth dozen"
)
_NUMBER_WORDS = frozenset(_NUMBER_TEXT.split())


def _number_words(word: str) -> set[str]:
    return {p for p in word.casefold().split("-") if p in _NUMBER_WORDS}


def key_terms(text: str) -> set[str]:
    """Names (capitalised words) and numbers, digits or words: what a hallucination
    invents. A memory's first word counts too: extracted memories usually open with
    their subject ("Caroline attended…"), the name a model most often gets wrong; a
    capitalised common word there ("Painting is…") is usually in the turns as well."""
    terms = set()
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        terms |= _number_words(word)
        if _NUMBER.search(word):
            terms.add(word.replace(",", ""))
        elif word[0].isupper() and _norm(word) not in _STOP and _norm(word) not in _NUMBER_WORDS:
            terms.add(_norm(word))
    return terms


def date_terms(when: datetime | None) -> set[str]:
    """How a date is written in a memory ("On Mon 19 Oct", "in October 2026"): an episodic
    memory dated from its own session says nothing its source lacks."""
    if when is None:
        return set()
    names = {when.strftime(f).casefold() for f in ("%a", "%A", "%b", "%B")}
    return names | {str(when.day), str(when.year)}


def participants(record: MemoryRecord) -> set[str]:
    listed = record.source.get("participants") if isinstance(record.source, dict) else None
    people = {p for p in listed or [] if isinstance(p, str)}
    return people | {who for who in (record.user_id, record.agent_id) if who}


@dataclass(frozen=True)
class Support:
    memory_id: str
    score: float
    similarity: float
    overlap: float
    novel: tuple[str, ...]  # names/numbers not found in the source turns

    def explain(self) -> str:
        parts = [f"similarity {self.similarity:.2f}", f"word overlap {self.overlap:.0%}"]
        if self.novel:
            parts.append("not in the source: " + ", ".join(self.novel[:6]))
        return "; ".join(parts)


def source_texts(record: MemoryRecord) -> list[str]:
    """Each source turn as "speaker: text": who said it is part of what the source says."""
    turns = record.source.get("turns") if isinstance(record.source, dict) else None
    out = []
    for t in turns or []:
        if isinstance(t, dict) and t.get("text"):
            who = t.get("speaker") or t.get("role") or ""
            out.append(f"{who}: {t['text']}" if who and who not in ("user", "assistant") else str(t["text"]))
    return out


def support_scores(records: Sequence[MemoryRecord], embedder: Embedder) -> list[Support]:
    """Scores for the records that have source turns, in the order given."""
    checkable = [(r, source_texts(r)) for r in records]
    checkable = [(r, turns) for r, turns in checkable if turns]
    if not checkable:
        return []
    texts: list[str] = []
    spans = []
    for r, turns in checkable:
        start = len(texts)
        texts.append(r.text[:2000])
        texts.extend(t[:2000] for t in turns)
        texts.append(" ".join(turns)[:4000])
        spans.append((start, len(texts)))
    vectors = embedder.encode(texts)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    out = []
    for (r, turns), (start, end) in zip(checkable, spans, strict=True):
        sims = vectors[start + 1 : end] @ vectors[start]
        similarity = float(np.clip(sims.max(), 0.0, 1.0))
        source = " ".join(turns)
        words = content_words(r.text)
        source_words = content_words(source)
        overlap = len(words & source_words) / len(words) if words else 1.0
        source_terms = source_words | {
            t.replace(",", "") for t in _TOKEN.findall(source) if _NUMBER.search(t)
        }
        source_terms |= {n for t in _TOKEN.findall(source) for n in _number_words(t)}
        # Participants are present in their own conversation even when unnamed ("you").
        source_terms |= {_norm(w) for who in participants(r) for w in who.split()}
        source_terms |= date_terms(r.created_at)
        terms = key_terms(r.text)
        novel = tuple(sorted(t for t in terms if t not in source_terms))
        novel_share = len(novel) / len(terms) if terms else 0.0
        score = 0.45 * similarity + 0.35 * overlap + 0.20 * (1.0 - novel_share)
        out.append(Support(r.id, round(score, 4), round(similarity, 4), round(overlap, 4), novel))
    return out
