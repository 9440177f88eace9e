from __future__ import annotations

import os
import secrets
import time
import uuid
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class UuidIdGenerator:
    """Time-ordered UUIDs (UUIDv7 layout) so primary keys stay index-friendly."""

    def new_id(self) -> str:
        ms = time.time_ns() // 1_000_000
        rand = int.from_bytes(os.urandom(10), "big")
        value = (ms & ((1 << 48) - 1)) << 80 | (0x7 << 76) | (rand & ((1 << 76) - 1))
        value = (value & ~(0xC << 60)) | (0x8 << 60)  # RFC 4122 variant bits
        return str(uuid.UUID(int=value))

    def new_secret(self) -> str:
        return secrets.token_urlsafe(32)
