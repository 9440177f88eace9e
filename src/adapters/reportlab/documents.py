"""Invoices and credit notes as PDF (reportlab), their amounts, rates and dates written for the shop's
locale (Babel). The PDF is made in a thread, off the event loop; with ``invariant`` (the default) the same
document always gives the same bytes, and its page streams are left uncompressed so its text can be read
back (the tests do)."""

from __future__ import annotations

import asyncio
import io
import zoneinfo
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from domain.invoicing.documents import Document, DocumentKind, Party
from domain.shared.money import currency_exponent

_TITLES = {DocumentKind.INVOICE: "Invoice", DocumentKind.CREDIT_NOTE: "Credit note"}
_GRID = TableStyle([
    ("FONTSIZE", (0, 0), (-1, -1), 8.5),
    ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
    ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


class ReportlabDocumentRenderer:
    def __init__(self, *, locale: str = "en", invariant: bool = True) -> None:
        self._locale = locale.replace("-", "_")  # "de-DE" as Babel spells it
        self._invariant = invariant

    async def render(self, document: Document, *, refers_to: str | None = None) -> bytes:
        return await asyncio.to_thread(self.render_now, document, refers_to)

    def render_now(self, document: Document, refers_to: str | None = None) -> bytes:
        out = io.BytesIO()
        pdf = SimpleDocTemplate(
            out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm,
            title=f"{_TITLES[document.kind]} {document.number}", author=document.seller.name,
            invariant=int(self._invariant), pageCompression=0,
        )
        pdf.build(self._story(document, refers_to))
        return out.getvalue()

    # -- what the page holds ---------------------------------------------------------------------

    def _story(self, d: Document, refers_to: str | None) -> list[object]:
        styles = getSampleStyleSheet()
        body, title = styles["BodyText"], styles["Title"]
        facts = [
            ("Number", d.number),
            ("Issue date", self._date(d.issue_date)),
            ("Order", d.order_number),
        ]
        if d.kind is DocumentKind.INVOICE and d.paid_at is not None:
            facts.append(("Paid", self._date(d.paid_at.astimezone(zoneinfo.ZoneInfo(d.time_zone)).date())))
        if refers_to:
            facts.append(("Corrects invoice", refers_to))
        if d.reason:
            facts.append(("Reason", d.reason))
        facts.append(("Dates in", d.time_zone))
        parties = Table(
            [[Paragraph(self._party("Seller", d.seller), body), Paragraph(self._party("Buyer", d.buyer), body)]],
            colWidths=[87 * mm, 87 * mm],
        )
        return [
            Paragraph(f"{_TITLES[d.kind]} {escape(d.number)}", title),
            parties,
            Spacer(1, 4 * mm),
            Table([[label, value] for label, value in facts], colWidths=[35 * mm, 139 * mm],
                  style=TableStyle([("FONTSIZE", (0, 0), (-1, -1), 9),
                                    ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold")])),
            Spacer(1, 6 * mm),
            self._lines(d, body),
            Spacer(1, 6 * mm),
            Paragraph("<b>VAT breakdown</b>", body),
            self._vat(d),
            Spacer(1, 6 * mm),
            self._totals(d),
        ]

    def _party(self, role: str, party: Party) -> str:
        lines = [f"<b>{role}</b>", escape(party.name), *(escape(line) for line in party.address)]
        if party.vat_id:
            lines.append(f"VAT ID: {escape(party.vat_id)}")
        if party.email:
            lines.append(escape(party.email))
        return "<br/>".join(lines)

    def _lines(self, d: Document, style: object) -> Table:
        rows: list[list[object]] = [["Description", "Qty", "VAT rate", "Net", "VAT", "Gross"]]
        for line in d.lines:
            what = escape(line.description) + (f" <font size=7>({escape(line.sku)})</font>" if line.sku else "")
            rows.append([Paragraph(what, style), str(line.quantity), self._rate(line.vat_rate),
                         self._money(line.net, d.currency), self._money(line.vat, d.currency),
                         self._money(line.gross, d.currency)])
        return Table(rows, colWidths=[70 * mm, 12 * mm, 20 * mm, 24 * mm, 24 * mm, 24 * mm], style=_GRID,
                     repeatRows=1)

    def _vat(self, d: Document) -> Table:
        rows = [["VAT rate", "Net", "VAT", "Gross"]] + [
            [self._rate(v.rate), self._money(v.net, d.currency), self._money(v.vat, d.currency),
             self._money(v.gross, d.currency)]
            for v in d.vat
        ]
        return Table(rows, colWidths=[30 * mm, 30 * mm, 30 * mm, 30 * mm], style=_GRID, hAlign="LEFT")

    def _totals(self, d: Document) -> Table:
        gross = "Total credited" if d.kind is DocumentKind.CREDIT_NOTE else "Total"
        rows = [["Net", self._money(d.net, d.currency)], ["VAT", self._money(d.tax, d.currency)],
                [gross, self._money(d.gross, d.currency)]]
        return Table(rows, colWidths=[40 * mm, 34 * mm], hAlign="RIGHT", style=TableStyle([
            ("ALIGN", (1, 0), (1, -1), "RIGHT"), ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
        ]))

    # -- formatting ------------------------------------------------------------------------------

    def _money(self, amount: int, currency: str) -> str:
        return format_currency(Decimal(amount).scaleb(-currency_exponent(currency)), currency, locale=self._locale)

    def _rate(self, basis_points: int) -> str:
        return format_decimal(Decimal(basis_points) / 100, format="#,##0.##", locale=self._locale) + "%"

    def _date(self, day: date) -> str:
        return format_date(day, format="long", locale=self._locale)
