"""Alembic migrations and the helpers that run and check them."""
