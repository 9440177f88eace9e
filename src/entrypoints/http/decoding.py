"""What the edge accepts before anything is decoded into a command: one rule for text, one for bodies.

- **Control characters.** NUL and the other C0 controls never pass the edge (PostgreSQL refuses NUL in
  text, and nobody types the others): a 400 ``validation-error`` naming the field. Tab, CR and LF are
  allowed only in fields declared multi-line (``Annotated[str, MULTILINE]``: descriptions, promotion
  rules, staff notes); single-line fields — names, e-mails, SKUs, slugs — refuse CR and LF too, and the
  URL (path and query) refuses all of them. The rule walks the decoded JSON beside the route's request
  type, so no route repeats it.
- **Media type.** A JSON body must say so (``application/json`` or ``…+json``): a form or ``text/plain``
  body is what a cross-site page can send without a CORS preflight, so it gets a 415. A route that takes
  ``navigator.sendBeacon`` bodies (always ``text/plain``) says ``opt={BEACON: True}``.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ASGIApp, Receive, Scope, Send
from msgspec import inspect as mi

from entrypoints.http.problems import problem

MULTILINE = msgspec.Meta(extra={"multiline": True})
"""``Annotated[str, MULTILINE]``: a text field that may hold tab, CR and LF."""
BEACON = "beacon"
"""A route ``opt`` key: the JSON body may come as ``text/plain`` (``navigator.sendBeacon``)."""

_SINGLE_LINE = re.compile("[\x00-\x08\x0a-\x1f]")  # every C0 control but tab
_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")  # every C0 control but tab, LF and CR
_IN_URL = re.compile("[\x00-\x1f\x7f]")
_JSON_TYPES = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


class ControlCharacter(ValueError):
    def __init__(self, field: str, char: str) -> None:
        super().__init__(f"{field}: control character U+{ord(char):04X} is not allowed here")
        self.field = field


def check_text(value: str, field: str, *, multiline: bool = False) -> None:
    found = (_MULTI_LINE if multiline else _SINGLE_LINE).search(value)
    if found:
        raise ControlCharacter(field, found.group())


@functools.cache
def _info(annotation: Any) -> mi.Type:
    try:
        return mi.type_info(annotation)
    except (TypeError, ValueError):  # not a type msgspec describes: the lenient, multi-line rule
        return mi.AnyType()


def _unwrap(info: mi.Type) -> tuple[mi.Type, bool]:
    multiline = False
    while isinstance(info, mi.Metadata):
        multiline = multiline or bool((info.extra or {}).get("multiline"))
        info = info.type
    return info, multiline


def _members(info: mi.Type) -> list[mi.Type]:
    info, _ = _unwrap(info)
    if isinstance(info, mi.UnionType):
        return [m for t in info.types for m in _members(t)]
    return [info]


def _field_types(members: list[mi.Type], value: dict[str, Any]) -> dict[str, mi.Type] | None:
    structs = [m for m in members if isinstance(m, mi.StructType)]
    tagged = [s for s in structs if s.tag_field and value.get(s.tag_field) == s.tag]
    fields: dict[str, mi.Type] = {}
    for struct in tagged or structs:
        for f in struct.fields:
            fields.setdefault(f.encode_name, f.type)
    for member in members:
        if isinstance(member, mi.DictType):
            return None  # a mapping: every value has its value type (below)
    return fields


def _dict_values(members: list[mi.Type]) -> mi.Type:
    return next((m.value_type for m in members if isinstance(m, mi.DictType)), mi.AnyType())


def check_value(value: Any, info: mi.Type, field: str) -> None:
    """Walk decoded JSON beside its declared type; raise ``ControlCharacter`` at the first offending string.

    A string the type does not describe (``Any``, an unknown key) gets the lenient, multi-line rule;
    msgspec then refuses what the type does not allow anyway."""
    members = _members(info)
    if isinstance(value, str):
        described = [_unwrap(m) for m in _flatten(info)]
        strings = [multiline for t, multiline in described if isinstance(t, mi.StrType)]
        check_text(value, field or "body", multiline=any(strings) if strings else True)
    elif isinstance(value, dict):
        fields = _field_types(members, value)
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            check_text(str(key), name)
            if fields is None:
                check_value(item, _dict_values(members), name)
            else:
                check_value(item, fields.get(key, mi.AnyType()), name)
    elif isinstance(value, list):
        kinds = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)
        tuples = [m for m in members if isinstance(m, mi.TupleType)]
        item_type = next((m.item_type for m in members if isinstance(m, kinds)), mi.AnyType())
        for index, item in enumerate(value):
            if tuples and index < len(tuples[0].item_types):
                item_type = tuples[0].item_types[index]
            check_value(item, item_type, f"{field}[{index}]")


def _flatten(info: mi.Type) -> list[mi.Type]:
    """Union members, each keeping its own metadata (so one ``MULTILINE`` member is seen as such)."""
    bare, multiline = _unwrap(info)
    if isinstance(bare, mi.UnionType):
        found = [m for t in bare.types for m in _flatten(t)]
        return [mi.Metadata(m, extra={"multiline": True}) for m in found] if multiline else found
    return [info]


def _refusal(error: ControlCharacter, source: str) -> ValidationException:
    return ValidationException(
        detail=str(error), extra=[{"key": error.field, "message": "control characters are not allowed",
                                   "source": source}],
    )


class EdgeRequest(Request[Any, Any, Any]):
    """The app's request class: the JSON body a route asks for must be JSON and free of control characters."""

    async def json(self) -> Any:
        media_type, _ = self.content_type
        if not _JSON_TYPES.match(media_type.lower()) and not (
            self.route_handler.opt.get(BEACON) and media_type.lower() == "text/plain"
        ):
            raise HTTPException(status_code=415, detail="Send the body as application/json")
        value = await super().json()
        data = self.route_handler.parsed_data_field
        try:
            check_value(value, _info(data.annotation) if data is not None else mi.AnyType(), "")
        except ControlCharacter as error:
            raise _refusal(error, "body") from None
        return value


def url_middleware(app: ASGIApp) -> ASGIApp:
    """Refuse (400) a path or query carrying a control character, before any handler sees it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = _url_refusal(scope)
            if refused is not None:
                request: Request[Any, Any, Any] = Request(scope)
                await refused.to_asgi_response(None, request)(scope, receive, send)
                return
        await app(scope, receive, send)

    return middleware


def _url_refusal(scope: Scope) -> Any:
    places = [("path", scope["path"])]
    query = scope.get("query_string", b"").decode("latin-1")
    places += [(name, part) for name, value in parse_qsl(query, keep_blank_values=True) for part in (name, value)]
    for name, text in places:
        found = _IN_URL.search(text)
        if found:
            field = _IN_URL.sub("?", name)
            detail = f"{field}: control character U+{ord(found.group()):04X} is not allowed here"
            return problem(400, "validation-error", "Invalid request", detail, errors=[
                {"key": field, "message": "control characters are not allowed",
                 "source": "path" if field == "path" else "query"}])
    return None
