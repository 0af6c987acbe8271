"""Alembic environment: runs on a connection handed over by `data_access.migrate`, or on
the URL from `alembic.ini`'s -x url=... / the configured warehouse when run by hand."""

from alembic import context

from data_access.engine import make_engine
from data_access.schema import metadata

config = context.config


def run_migrations(connection):
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    with make_engine(url).begin() as conn:
        run_migrations(conn)
