"""The invoice store in memory: documents staged by a unit of work are numbered when it commits.

Numbers and documents live in rows no unit of work copies (``Shared``): a commit numbers its documents
from the counters as they are then (a commit runs without yielding to the loop), so concurrent units of
work take consecutive numbers, and one that rolls back takes none — as the PostgreSQL counter row does."""

from __future__ import annotations

import dataclasses

from domain.invoicing.documents import Document, DocumentKind, DocumentNotFound
from domain.shared.errors import Conflict


class MemoryInvoices:
    def __init__(self, shared: dict[str, dict[str, object]]) -> None:
        self._documents: dict[str, Document] = shared.setdefault("documents", {})  # type: ignore[assignment]
        self._counters: dict[str, int] = shared.setdefault("counters", {})  # type: ignore[assignment]
        self._staged: list[Document] = []
        self._rendered: dict[str, str] = {}

    async def issue(self, document: Document) -> None:
        self._staged.append(dataclasses.replace(document, sequence=None, pdf_key=None))

    async def get(self, document_id: str) -> Document:
        try:
            return self._documents[document_id]
        except KeyError:
            raise DocumentNotFound(f"no document {document_id}") from None

    async def of_order(self, order_id: str) -> list[Document]:
        found = [d for d in self._documents.values() if d.order_id == order_id]
        return sorted(found, key=lambda d: (d.kind is not DocumentKind.INVOICE, d.series, d.sequence or 0))

    async def mark_rendered(self, document_id: str, pdf_key: str) -> None:
        await self.get(document_id)
        self._rendered[document_id] = pdf_key

    def check(self) -> None:
        """Before the commit: refuse what the PostgreSQL unique indexes refuse (a second invoice of an order,
        a second credit note of one refund), so nothing of the unit of work is written."""
        taken = {_key(d) for d in self._documents.values()}
        for document in self._staged:
            if _key(document) in taken:
                raise Conflict(f"a concurrent change conflicts with this one ({document.kind.value} of "
                               f"order {document.order_id})")
            taken.add(_key(document))

    def apply(self) -> None:
        """At the commit: number the staged documents and store them; remember the PDFs marked."""
        for document in self._staged:
            sequence = self._counters.get(document.series, 0) + 1
            self._counters[document.series] = sequence
            self._documents[document.id] = dataclasses.replace(document, sequence=sequence)
        for document_id, key in self._rendered.items():
            self._documents[document_id] = dataclasses.replace(self._documents[document_id], pdf_key=key)
        self.discard()

    def discard(self) -> None:
        self._staged, self._rendered = [], {}


def _key(document: Document) -> tuple[str, str, str | None]:
    return (document.kind.value, document.order_id,
            document.refund_reference if document.kind is DocumentKind.CREDIT_NOTE else None)
