"""Named things a memory mentions, found without a model: capitalised words and runs.

Good enough to connect "Maya" in one memory to "Maya" in another; not a general NER.
Function words that are capitalised because they start a sentence, and calendar words,
are left out.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_COMMON = {
    "I", "I'm", "I've", "I'll", "I'd", "The", "A", "An", "On", "In", "At", "For", "And", "But", "Or", "So",
    "He", "She", "They", "We", "You", "It", "His", "Her", "Their", "Our", "My", "Your", "This", "That",
    "These", "Those", "When", "What", "Which", "Who", "Why", "How", "If", "Then", "Also", "Yes", "No",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
    "Nov", "Dec", "OK", "Ok",
}  # fmt: skip


def strip_possessive(word: str) -> str:
    """ "Maya's" -> "Maya" (straight or curly apostrophe)."""
    return re.sub(r"['’]s$", "", word)


def extract_entities(text: str, limit: int = 2000) -> set[str]:
    """Proper-noun-like names in the first `limit` characters of `text`."""
    head = text[:limit]
    found: set[str] = set()
    for m in _WORD.finditer(head):
        words = [w for w in (strip_possessive(w) for w in m.group(0).split()) if w not in _COMMON]
        if words and (len(words) > 1 or len(words[0]) > 1):
            found.add(" ".join(words))
    return found
