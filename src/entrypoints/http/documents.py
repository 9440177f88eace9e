"""An order's invoice and credit notes over HTTP: the PDF as an attachment, or their list. Shared by the
storefront's route (the order's own shopper) and the admin's (staff)."""

from __future__ import annotations

from typing import Annotated

from litestar import Response
from litestar.params import PathParameter

from application.invoicing.handlers import DocumentPdf

DocumentNumber = Annotated[str, PathParameter(pattern=r"^[A-Za-z0-9_-]{1,48}$")]


def attachment(pdf: DocumentPdf) -> Response[bytes]:
    """The PDF to save, never kept by a cache on the way (it names a buyer)."""
    return Response(pdf.data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{pdf.filename}"', "Cache-Control": "private, no-store",
    })
