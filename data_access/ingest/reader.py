"""Read CSV and Excel exports a chunk of rows at a time, whatever the plant's conventions.

Memory stays bounded by the chunk size: CSV is decoded and split as a stream, Excel is
read with openpyxl's read-only (streaming) mode. Every value arrives as text (Excel dates
as ISO 8601 text), with the file line or sheet row it came from. Rows that cannot be split
into the header's columns are handed back as bad rows with their reason, not dropped.
"""

import codecs
import csv
import hashlib
import io
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from data_access.ingest.errors import IngestError

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
MAX_FIELD_CHARS = 64 * 1024 * 1024  # a single field larger than this stops the read
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

_decode_errors = threading.local()


def _flag_and_escape(exc):
    """Decode error handler: count the error, keep the bytes as surrogates (see _undecodable)."""
    _decode_errors.count = getattr(_decode_errors, "count", 0) + 1
    return codecs.lookup_error("surrogateescape")(exc)


codecs.register_error("pnct_flag", _flag_and_escape)
csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))


@dataclass
class RawChunk:
    """Rows as text (columns = the header), the line or row number of each, and the rows
    that could not be split, as (row_number, reason, {column: value})."""

    frame: pd.DataFrame
    row_numbers: np.ndarray
    bad: list = field(default_factory=list)


def file_sha256(source) -> str:
    digest = hashlib.sha256()
    with _binary(source) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _binary:
    """Open a path, or rewind a binary file object (an upload), for reading bytes."""

    def __init__(self, source):
        self.source = source
        self.handle = None

    def __enter__(self):
        if isinstance(self.source, (str, Path)):
            try:
                self.handle = open(self.source, "rb")
            except FileNotFoundError:
                raise IngestError(f"file {self.source} does not exist") from None
            except OSError as exc:
                raise IngestError(f"file {self.source} cannot be read: {exc.strerror}") from None
            return self.handle
        self.source.seek(0)
        return self.source

    def __exit__(self, *exc):
        if self.handle is not None:
            self.handle.close()


def open_reader(source, file_name: str, options) -> "CsvReader | ExcelReader":
    """The reader for `source` (a path or a binary file object) by format or file name."""
    fmt = options.format or ("excel" if file_name.lower().endswith(EXCEL_SUFFIXES) else "csv")
    if file_name.lower().endswith(".xls") and fmt == "excel":
        raise IngestError("old Excel .xls files are not supported: save the sheet as .xlsx or CSV")
    return ExcelReader(source, options) if fmt == "excel" else CsvReader(source, options)


class CsvReader:
    def __init__(self, source, options):
        self.options = options
        self.notes: list[str] = []
        self._binary = _binary(source)
        raw = self._binary.__enter__()
        try:
            self._open(raw)
        except BaseException:
            self.close()
            raise

    def _open(self, raw):
        sample = raw.read(SNIFF_BYTES)
        raw.seek(0, io.SEEK_END)
        self.size = raw.tell()
        raw.seek(0)
        if not sample:
            raise IngestError("the file is empty (0 bytes)")
        self.encoding = self._encoding(sample)
        self._raw = raw
        self.text = io.TextIOWrapper(raw, encoding=self.encoding, errors="pnct_flag", newline="")
        self._errors_before = getattr(_decode_errors, "count", 0)
        self.line = 0
        for _ in range(self.options.header_row - 1):
            if not self.text.readline():
                raise IngestError(f"the file ends before its header line {self.options.header_row}")
            self.line += 1
        header_line = self.text.readline()
        self.line += 1
        if not header_line.strip():
            raise IngestError("the file has no header line (the first line is empty)")
        self.delimiter = self.options.delimiter or _sniff_delimiter(header_line)
        self.header = _header(next(csv.reader([header_line], delimiter=self.delimiter)))
        if any(_undecodable(h) for h in self.header):
            raise IngestError(
                f"the header line is not valid {self.encoding}: set file.encoding in "
                "the mapping (e.g. cp1252 or latin-1 for Western European exports)"
            )
        self._rows = csv.reader(self.text, delimiter=self.delimiter)

    def _encoding(self, sample: bytes) -> str:
        declared = self.options.encoding
        if sample.startswith(codecs.BOM_UTF8):
            if declared and codecs.lookup(declared).name not in ("utf-8", "utf-8-sig"):
                self.notes.append(f"the file starts with a UTF-8 byte order mark: read as UTF-8, not {declared}")
            return "utf-8-sig"
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if declared:
            return declared
        for cut in range(4):  # the sample may end inside a multi-byte character
            try:
                sample[: len(sample) - cut].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError as exc:
                if exc.start < len(sample) - cut - 4:
                    break
        self.notes.append(
            "the file is not UTF-8: read as cp1252 (Windows Western European); "
            "set file.encoding in the mapping if that is wrong"
        )
        return "cp1252"

    @property
    def position(self) -> float:
        """Fraction of the file read so far (approximate: the decoder reads ahead)."""
        try:
            return min(1.0, self._raw.tell() / self.size) if self.size else 1.0
        except (OSError, ValueError):
            return 0.0

    def chunks(self, size: int):
        width = len(self.header)
        rows, numbers, bad = [], [], []
        line_before = self.line
        start = self.line
        rows_iter = self._rows
        while True:
            try:
                row = next(rows_iter)
            except StopIteration:
                break
            except csv.Error as exc:
                raise IngestError(f"the file cannot be read as CSV after line {self.line}: {exc}") from None
            number = line_before + 1
            line_before = start + rows_iter.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                if len(row) > width and not any(v.strip() for v in row[width:]):
                    row = row[:width]  # trailing delimiters
                else:
                    bad.append(
                        (
                            number,
                            f"has {len(row)} fields where the header has {width} "
                            f"(delimiter {self.delimiter!r}; a value with an unquoted "
                            "delimiter or line break?)",
                            _raw_dict(self.header, row),
                        )
                    )
                    if len(rows) + len(bad) >= size:
                        yield self._chunk(rows, numbers, bad)
                        rows, numbers, bad = [], [], []
                    continue
            rows.append(row)
            numbers.append(number)
            if len(rows) + len(bad) >= size:
                yield self._chunk(rows, numbers, bad)
                rows, numbers, bad = [], [], []
        if rows or bad:
            yield self._chunk(rows, numbers, bad)

    def _chunk(self, rows, numbers, bad) -> RawChunk:
        frame = (
            pd.DataFrame(rows, columns=self.header, dtype=object)
            if rows
            else pd.DataFrame({h: pd.Series(dtype=object) for h in self.header})
        )
        if getattr(_decode_errors, "count", 0) > self._errors_before and len(frame):
            frame, bad = self._split_undecodable(frame, np.asarray(numbers), bad)
            return RawChunk(frame, frame.pop("__row__").to_numpy(dtype=np.int64), bad)
        return RawChunk(frame, np.asarray(numbers, dtype=np.int64), bad)

    def _split_undecodable(self, frame, numbers, bad):
        """Rows holding bytes the encoding could not decode become bad rows with the reason."""
        mask = np.zeros(len(frame), dtype=bool)
        for column in frame.columns:
            mask |= frame[column].str.contains(r"[\udc80-\udcff]", regex=True).to_numpy()
        frame = frame.assign(__row__=numbers)
        for index in np.flatnonzero(mask):
            values = frame.iloc[index]
            example = next(v for v in values.iloc[:-1] if _undecodable(v))
            byte = next(ord(ch) - 0xDC00 for ch in example if 0xDC80 <= ord(ch) <= 0xDCFF)
            bad.append(
                (
                    int(values["__row__"]),
                    f"holds bytes that are not valid {self.encoding} (0x{byte:02X} in {_readable(example)!r}): "
                    "set file.encoding in the mapping (e.g. cp1252 or latin-1)",
                    {k: _readable(v) for k, v in values.iloc[:-1].items()},
                )
            )
        return frame[~mask].reset_index(drop=True), bad

    def close(self):
        self._binary.__exit__(None, None, None)


class ExcelReader:
    def __init__(self, source, options):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        self.options = options
        self.notes: list[str] = []
        self.encoding = None
        self.delimiter = None
        self._binary = _binary(source)
        handle = self._binary.__enter__()
        if not handle.read(4):
            self.close()
            raise IngestError("the file is empty (0 bytes)")
        handle.seek(0)
        try:
            self.book = load_workbook(handle, read_only=True, data_only=True)
        except (InvalidFileException, KeyError, OSError, ValueError) as exc:
            self.close()
            raise IngestError(f"the file is not an Excel .xlsx workbook: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - zipfile.BadZipFile and friends
            self.close()
            raise IngestError(f"the file is not an Excel .xlsx workbook ({type(exc).__name__})") from None
        sheet = options.sheet
        names = self.book.sheetnames
        if sheet is None:
            self.sheet = self.book[names[0]]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                self.close()
                raise IngestError(f"the workbook has no sheet number {sheet} (sheets: {', '.join(names)})")
            self.sheet = self.book[names[sheet]]
        elif sheet in names:
            self.sheet = self.book[sheet]
        else:
            self.close()
            raise IngestError(f"the workbook has no sheet {sheet!r} (sheets: {', '.join(names)})")
        self.total_rows = self.sheet.max_row or 0
        self._rows = self.sheet.iter_rows(min_row=options.header_row, values_only=True)
        header = next(self._rows, None)
        if header is None or not any(v not in (None, "") for v in header):
            self.close()
            raise IngestError(f"the sheet {self.sheet.title!r} is empty: no header in row {options.header_row}")
        while header and header[-1] in (None, ""):
            header = header[:-1]
        self.header = _header([_cell_text(v) for v in header])
        self.row = options.header_row

    @property
    def position(self) -> float:
        return min(1.0, self.row / self.total_rows) if self.total_rows else 0.0

    def chunks(self, size: int):
        width = len(self.header)
        rows, numbers, bad = [], [], []
        for values in self._rows:
            self.row += 1
            if values is None or all(v in (None, "") for v in values):
                continue
            cells = [_cell_text(v) for v in values]
            if len(cells) > width:
                if any(c.strip() for c in cells[width:]):
                    bad.append(
                        (self.row, f"has values beyond the header's {width} columns", _raw_dict(self.header, cells))
                    )
                    continue
                cells = cells[:width]
            cells += [""] * (width - len(cells))
            rows.append(cells)
            numbers.append(self.row)
            if len(rows) + len(bad) >= size:
                yield RawChunk(
                    pd.DataFrame(rows, columns=self.header, dtype=object), np.asarray(numbers, dtype=np.int64), bad
                )
                rows, numbers, bad = [], [], []
        if rows or bad:
            frame = (
                pd.DataFrame(rows, columns=self.header, dtype=object)
                if rows
                else pd.DataFrame({h: pd.Series(dtype=object) for h in self.header})
            )
            yield RawChunk(frame, np.asarray(numbers, dtype=np.int64), bad)

    def close(self):
        book = getattr(self, "book", None)
        if book is not None:
            book.close()
        self._binary.__exit__(None, None, None)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _header(names) -> list[str]:
    """Column names stripped; a repeated name gets ' (2)', ' (3)' ...; blanks are 'column N'."""
    out, seen = [], {}
    for i, name in enumerate(names):
        name = str(name).replace("\ufeff", "").strip() or f"column {i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _undecodable(value: str) -> bool:
    return any(0xDC80 <= ord(ch) <= 0xDCFF for ch in value)


def _readable(value: str) -> str:
    """Text with undecodable bytes shown as U+FFFD (storable, printable)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if _undecodable(value) else value


def _raw_dict(header, row) -> dict:
    out = {h: _readable(v) for h, v in zip(header, row)}
    for i, v in enumerate(row[len(header) :], start=len(header) + 1):
        out[f"(extra field {i})"] = _readable(v)
    return out
