"""Engine-neutral text handling for adapters that expand queries themselves (PostgreSQL, the fake)."""

from __future__ import annotations

import re

from domain.search.merchandising import SynonymGroup

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_SPAN = 3  # the longest synonym phrase matched, in words
MAX_WORDS = 10  # words of a query that count (Meilisearch's own limit), so a long query stays cheap


def words(text: str) -> list[str]:
    """Lower-cased words of letters and digits, in order."""
    found: list[str] = _WORD.findall(text.lower())
    return found


def query_words(text: str) -> list[str]:
    """The words of a query that are searched for (the first MAX_WORDS)."""
    return words(text)[:MAX_WORDS]


def synonym_map(groups: list[SynonymGroup]) -> dict[str, list[str]]:
    """Each term -> every term of its groups (itself first)."""
    mapping: dict[str, list[str]] = {}
    for group in groups:
        for term in group.terms:
            key = " ".join(words(term))
            known = mapping.setdefault(key, [key])
            known.extend(" ".join(words(t)) for t in group.terms if " ".join(words(t)) not in known)
    return mapping


def plan(text: str, synonyms: dict[str, list[str]]) -> list[list[str]]:
    """The query as positions to match, each a list of alternatives (a word or a phrase).

    Longest synonym phrase first, left to right: "running shoes" in a group with "sneakers" becomes
    one position ["running shoes", "sneakers"]; other words stand alone.
    """
    tokens = query_words(text)
    positions: list[list[str]] = []
    i = 0
    while i < len(tokens):
        for span in range(min(MAX_SPAN, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + span])
            if phrase in synonyms:
                positions.append(list(synonyms[phrase]))
                i += span
                break
        else:
            positions.append([tokens[i]])
            i += 1
    return positions
