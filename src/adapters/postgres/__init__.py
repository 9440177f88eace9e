"""PostgreSQL adapters: SQLAlchemy Core tables (Alembic's metadata), unit of work, outbox, read models."""
