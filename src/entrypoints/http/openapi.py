"""The OpenAPI document says what every operation answers when it refuses: a problem (RFC 9457).

Litestar documents a 400 of its own shape; ours is ``application/problem+json`` everywhere, for every
status a route can refuse with (400, 401, 403, 404, 409, 415, 422, 429, 503…): one ``Problem``
component, the ``default`` response of every operation, and the documented 400 replaced by it. A
204 is documented without a body.
"""

from __future__ import annotations

from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Reference, Schema

PROBLEM = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status"],
    properties={
        "type": Schema(type=OpenAPIType.STRING, description="a URI naming the kind of problem"),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
    },
    description="A problem (RFC 9457); some kinds carry more members (errors, skus, position…).",
)
_PROBLEM_RESPONSE = OpenAPIResponse(
    description="Refused: a problem document (RFC 9457)",
    content={"application/problem+json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))},
)


def document_problems(document: OpenAPI) -> OpenAPI:
    """Every operation's refusals as ``Problem``s (in place; the served document is this object)."""
    if document.components is not None:
        document.components.schemas = {**(document.components.schemas or {}), "Problem": PROBLEM}
    for item in (document.paths or {}).values():
        for method in ("get", "put", "post", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = dict(operation.responses or {})
            responses.pop("400", None)  # Litestar's own validation shape: ours is a problem
            no_content = responses.get("204")
            if isinstance(no_content, OpenAPIResponse):
                no_content.content = None  # Litestar documents a JSON null body; a 204 has none
            responses["default"] = _PROBLEM_RESPONSE
            operation.responses = responses
    return document
