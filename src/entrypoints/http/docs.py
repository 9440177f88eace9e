"""The API docs page at ``/schema``: the OpenAPI document rendered on the server, with no script at all.

Litestar's Scalar and Swagger pages load their JavaScript from a CDN (jsDelivr), which the stack does
not allow and which no Subresource Integrity pins; this page is plain HTML built from the same document,
one table per tag, and links to ``/schema/openapi.json`` for any tool that wants the whole thing. Its
only style sheet is inline and allowed by hash (``STYLE_HASH``, used by ``entrypoints.http.headers``).
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{text-align:left;padding:.3rem .5rem;"
    "border-bottom:1px solid #ddd;vertical-align:top}code{font-size:13px}.m{font-weight:600;text-transform:uppercase}"
)
STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"
_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(schema: dict[str, Any]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in sorted(schema.get("paths", {}).items()):
        for method in _METHODS:
            operation = item.get(method)
            if operation:
                for tag in operation.get("tags") or ["other"]:
                    by_tag.setdefault(tag, []).append((method, path, operation))
    return by_tag


class DocsRenderPlugin(OpenAPIRenderPlugin):
    """The operations of the OpenAPI document as HTML tables; served at the OpenAPI root."""

    def __init__(self, *, path: str = "/", **kwargs: Any) -> None:
        super().__init__(path=path, favicon="", style="", **kwargs)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        json_url = escape(self.get_openapi_json_route(request))
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{escape(info.get('title', 'API'))} API</title><style>{STYLE}</style></head><body>",
            f"<h1>{escape(info.get('title', 'API'))} <small>{escape(str(info.get('version', '')))}</small></h1>",
            f"<p>{escape(info.get('description', ''))}</p>",
            f"<p>The whole document, for any OpenAPI tool: <a href='{json_url}'>{json_url}</a></p>",
        ]
        for tag, operations in sorted(_operations(openapi_schema).items()):
            parts.append(f"<h2>{escape(tag)}</h2><table><tr><th>method</th><th>path</th><th>operation</th>"
                         "<th>summary</th></tr>")
            for method, path, operation in operations:
                summary = operation.get("summary") or operation.get("description") or ""
                parts.append(
                    f"<tr><td class='m'>{method}</td><td><code>{escape(path)}</code></td>"
                    f"<td><code>{escape(operation.get('operationId', ''))}</code></td><td>{escape(summary)}</td></tr>"
                )
            parts.append("</table>")
        parts.append("</body></html>")
        return "".join(parts).encode()
