"""The articles the shipped scenarios test, cited as a reader can follow them: title, author or publisher, year, URL.

The registry is the one place these citations are written. Scenario files cite in words; results files written
before the citations existed name the articles by the project's private copies
(``../shared/references/000_3b263d6e4a991302.txt``), a path no reader has: :func:`cite_source` replaces such a path
with its citation when a report is built, so old results read as new ones do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """One article: ``title`` (None where the article gives none), ``author`` (a person, else the publisher or the
    kind of publication), and ``year`` and ``url`` where known. Nothing unknown is filled in."""

    title: str | None
    author: str
    year: int | None = None
    url: str | None = None

    def citation(self) -> str:
        """``"Title", Author, 2022, https://…`` with the parts that are known."""
        title = f'"{self.title}"' if self.title else None
        return ", ".join(str(p) for p in (title, self.author, self.year, self.url) if p)


#: Key (the stem of the private copy's file name) → reference.
REFERENCES: dict[str, Reference] = {
    "000_3b263d6e4a991302": Reference(
        "Accelerating neural network training with large and precise gradient steps",
        "Piotr Skalski, Featurespace",
        2022,
        "https://www.featurespace.com/newsroom/"
        "accelerating-neural-network-training-with-large-and-precise-gradient-steps/",
    ),
    "003_c655ebf673bb9c89": Reference(
        "Training Time Speed Ups", "a WordPress.com blog post (author and date not given)"
    ),
    "004_0edf61966bd291ee": Reference(
        None, "an untitled blog post summarising techniques that accelerate training (author and date not given)"
    ),
}

_PRIVATE_COPY = re.compile(r"(?:\.\./)*(?:shared/)?references/(?P<key>[0-9]{3}_[0-9a-f]{16})\.txt")


def cite_source(text: str) -> str:
    """``text`` with every path to a private copy of a reference replaced by that reference's citation (unknown
    keys are left as they are)."""

    def replace(match: re.Match[str]) -> str:
        reference = REFERENCES.get(match["key"])
        return reference.citation() if reference else match[0]

    return _PRIVATE_COPY.sub(replace, text)
