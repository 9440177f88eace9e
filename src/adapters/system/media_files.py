"""Product media as files under the data directory; the API serves the public ones under ``/media/``.

Each object is a file and a ``.meta`` file beside it (its media type and cache header), both written to
a temporary name and renamed into place, so a reader sees a whole object or none. File work runs in a
thread: a slow disk never holds the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import uuid
from pathlib import Path

from application.ports.media import StoredObject

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def check_key(key: str) -> str:
    """A key is relative path segments of safe characters, each no longer than a file name may be (255),
    never ``..``, never a ``.meta`` file's name."""
    if (len(key) > 512 or not _KEY.match(key) or ".." in key or key.endswith(".meta")
            or any(len(segment) > 250 for segment in key.split("/"))):  # room for the ".meta" beside it
        raise ValueError(f"not a media key: {key!r}")
    return key


class FilesystemMediaStorage:
    def __init__(self, root: str | Path, *, base_url: str = "/media/") -> None:
        self._root = Path(root)
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"

    def url(self, key: str) -> str:
        return self._base_url + check_key(key)

    async def put(self, key: str, data: bytes, *, content_type: str, cache_control: str = "private") -> None:
        path = self._path(key)
        meta = json.dumps({"content_type": content_type, "cache_control": cache_control}).encode()
        await asyncio.to_thread(self._write, path, data, meta)

    async def get(self, key: str) -> StoredObject | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return await asyncio.to_thread(self._read, path)

    async def delete(self, keys: list[str]) -> None:
        paths = [self._path(key) for key in keys]
        await asyncio.to_thread(self._remove, paths)

    def _path(self, key: str) -> Path:
        return self._root / check_key(key)

    @staticmethod
    def _write(path: Path, data: bytes, meta: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, content in ((path.with_name(path.name + ".meta"), meta), (path, data)):
            temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            temporary.write_bytes(content)
            os.replace(temporary, target)

    @staticmethod
    def _read(path: Path) -> StoredObject | None:
        try:
            data = path.read_bytes()
            meta = json.loads(path.with_name(path.name + ".meta").read_bytes())
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        return StoredObject(data=data, content_type=meta["content_type"], cache_control=meta["cache_control"])

    def _remove(self, paths: list[Path]) -> None:
        for path in paths:
            for target in (path, path.with_name(path.name + ".meta")):
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
            parent = path.parent
            while parent != self._root and self._root in parent.parents:  # empty directories go too
                try:
                    parent.rmdir()
                except OSError:
                    break
                parent = parent.parent
