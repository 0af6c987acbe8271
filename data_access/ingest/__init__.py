"""Plant data onboarding: a plant's CSV or Excel export into the canonical warehouse.

`load_file` loads one file for one plant and source through a mapping (see `mapping`);
`preview` shows the first rows as they would be loaded; `retry_quarantine` re-runs the
quarantined rows after a mapping fix; `map_code` resolves an entry of the review list.
Command line: `python -m data_access.ingest --help`. Importable without Streamlit.
"""

from data_access.ingest.errors import IngestError
from data_access.ingest.loader import LoadResult, canonical_codes, load_file, map_code, retry_quarantine
from data_access.ingest.mapping import Mapping, MappingError, load_mapping, parse_mapping, parse_mapping_text
from data_access.ingest.preview import Preview, preview
from data_access.ingest.sources import SOURCES

__all__ = [
    "IngestError",
    "LoadResult",
    "Mapping",
    "MappingError",
    "Preview",
    "SOURCES",
    "canonical_codes",
    "load_file",
    "load_mapping",
    "map_code",
    "parse_mapping",
    "parse_mapping_text",
    "preview",
    "retry_quarantine",
]
