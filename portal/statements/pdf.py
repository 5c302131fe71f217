"""The PDF of a statement (§13 documents), rendered by WeasyPrint from the same template as
the page (`statements/_document.html`) inside a print layout of its own: no navigation,
A4, and a CSS font stack that names NanumGothic first so Korean titles render (Debian's
fonts-nanum; WeasyPrint finds it through fontconfig).

WeasyPrint is imported on first use: it loads Pango, which only this page needs.
"""

from __future__ import annotations

from flask import render_template

from models.money.history import Document


def statement_pdf(doc: Document, **context: object) -> bytes:
    """The statement as PDF bytes."""
    from weasyprint import HTML

    html = render_template("statements/statement_pdf.html", doc=doc, **context)
    # No base URL: the template links nothing, so rendering never fetches anything.
    return HTML(string=html).write_pdf()
