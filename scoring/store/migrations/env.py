"""Alembic environment: runs on the connection gongkai hands it (see scoring.store.db.migrate)."""

from alembic import context

from scoring.store.models import SQLModel

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
