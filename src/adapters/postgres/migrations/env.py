"""Alembic environment: synchronous psycopg 3 connection, URL from DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

from adapters.postgres.engine import normalise_url
from adapters.postgres.tables import metadata

config = context.config
url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL") or config.get_main_option(
    "sqlalchemy.url"
)


def run_migrations_online() -> None:
    engine = create_engine(normalise_url(str(url)), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=metadata, include_schemas=True,
            version_table_schema="public",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=normalise_url(str(url)), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
