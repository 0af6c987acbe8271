"""Run a SQLAlchemy statement and get a DataFrame with the statement's column names."""

import pandas as pd


def read_frame(conn, stmt) -> pd.DataFrame:
    """Columns keep their names and order even when no row comes back."""
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
