"""E-mail templates: ``string.Template`` files, a subject, a plain-text body and an HTML alternative.

For a template ``name`` the directory holds ``name.subject.txt``, ``name.txt`` and ``name.html``.
Values are substituted as ``$name``; in HTML they are escaped first. A ``lines`` context entry (a
list of dicts) is rendered row by row with ``line.txt`` / ``line.html`` into ``$lines``.
A missing value is an error, not a blank in a customer's inbox.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"


class UnknownTemplate(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class TemplateRenderer:
    def __init__(self, directory: Path = TEMPLATES) -> None:
        self._directory = directory
        self._cache: dict[str, Template] = {}

    def _template(self, filename: str) -> Template:
        if filename not in self._cache:
            path = self._directory / filename
            if not path.is_file():
                raise UnknownTemplate(filename)
            self._cache[filename] = Template(path.read_text(encoding="utf-8"))
        return self._cache[filename]

    def _values(self, context: dict[str, Any], *, escape: bool) -> dict[str, str]:
        values = {k: str(v) for k, v in context.items() if k != "lines"}
        return {k: html.escape(v) for k, v in values.items()} if escape else values

    def _body(self, name: str, kind: str, context: dict[str, Any]) -> str:
        escape = kind == "html"
        values = self._values(context, escape=escape)
        rows = context.get("lines") or []
        values["lines"] = "".join(
            self._template(f"line.{kind}").substitute(self._values(row, escape=escape)) for row in rows
        )
        return self._template(f"{name}.{kind}").substitute(values)

    def render(self, name: str, context: dict[str, Any]) -> RenderedEmail:
        subject = self._template(f"{name}.subject.txt").substitute(self._values(context, escape=False))
        return RenderedEmail(
            subject=" ".join(subject.split()), text=self._body(name, "txt", context),
            html=self._body(name, "html", context),
        )
