"""Where the test run's PostgreSQL database and Redis are (``tests/conftest.py`` creates the database)."""

from __future__ import annotations

import os

from sqlalchemy.engine import make_url

from adapters.postgres.engine import normalise_url

BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TEST_DATABASE = os.environ.get("EMPORIUM_TEST_DATABASE", "emporium_test")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url_for_tests() -> str:
    return make_url(normalise_url(BASE_DATABASE_URL)).set(database=TEST_DATABASE).render_as_string(
        hide_password=False
    )
