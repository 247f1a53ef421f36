"""Find and open the data behind a URI as a ``pyarrow.dataset.Dataset``.

Local paths (relative ones against a base directory), ``file://`` URIs, and the
object stores pyarrow has filesystems for (``s3://``, ``gs://``, ``abfs(s)://``)
where their credentials are configured in the environment. Formats: Parquet, CSV,
JSON lines and, with the ``delta`` extra, Delta tables.
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from featmesh.connector.errors import InputError, MissingExtraError, SourceError
from featmesh.connector.model import stable_hash

FORMATS = ("parquet", "csv", "json", "delta")
_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".parq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
_REMOTE = ("s3", "s3a", "gs", "gcs", "abfs", "abfss")
DICTIONARY_BYTES_PER_VALUE = 3.0
"""A Parquet string column taking at most this many bytes per value is (nearly
always) pure dictionary-encoded and is read as an Arrow dictionary: counting its
values then costs one pass over small integer indices."""


@dataclass(frozen=True)
class Opened:
    uri: str
    format: str
    dataset: ds.Dataset
    total_rows: int | None
    """Known up front (Parquet, Delta metadata), else None."""
    fingerprint: str
    bounds: dict[str, tuple[object, object]] = field(default_factory=dict)
    """Exact min and max of numeric and temporal columns from Parquet statistics."""


def local_path(uri: str, base_dir: str | None = None) -> Path | None:
    """The local path a URI names, or None for a remote URI."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter: a Windows drive
        return None
    path = Path(os.path.expanduser(uri))
    if not path.is_absolute() and base_dir:
        path = Path(base_dir) / path
    return path


def open_dataset(
    uri: str, *, base_dir: str | None = None, fmt: str | None = None, columns: tuple[str, ...] = ()
) -> Opened:
    """Open ``uri``. InputError when it is missing, unreadable or not a dataset;
    SourceError when a remote store cannot be reached; MissingExtraError for Delta
    without ``deltalake``."""
    path = local_path(uri, base_dir)
    if path is None:
        return _open_remote(uri, fmt)
    shown = uri if path.is_absolute() or not base_dir else str(path)
    if not path.exists():
        raise InputError("no such file or directory", path=shown)
    if not os.access(path, os.R_OK) or (path.is_dir() and not os.access(path, os.X_OK)):
        raise InputError("permission denied", path=shown)
    fmt = (fmt or "").lower() or _detect_format(path, shown)
    if fmt not in FORMATS:
        raise InputError(f"unsupported format {fmt!r}; expected one of {', '.join(FORMATS)}", path=shown)
    try:
        if fmt == "delta":
            return _open_delta(str(path), shown)
        dataset = ds.dataset(
            str(path),
            format=_file_format(fmt, str(path), columns),
            exclude_invalid_files=False,
            ignore_prefixes=[".", "_"],
        )
    except PermissionError as err:
        raise InputError(f"permission denied: {err.filename or path}", path=shown) from err
    except OSError as err:
        if err.errno == errno.EACCES:
            raise InputError("permission denied", path=shown) from err
        raise InputError(f"cannot read: {err}", path=shown) from err
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as err:
        raise InputError(f"not a readable {fmt} dataset: {_short(err)}", path=shown) from err
    if not dataset.files:
        raise InputError(f"no {fmt} files found", path=shown)
    return Opened(
        uri=shown,
        format=fmt,
        dataset=dataset,
        total_rows=_parquet_rows(dataset) if fmt == "parquet" else None,
        fingerprint=_fingerprint(dataset.files),
        bounds=_parquet_bounds(dataset.files) if fmt == "parquet" else {},
    )


def _detect_format(path: Path, shown: str) -> str:
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            return "delta"
        seen = Counter(
            _EXTENSIONS.get(_suffix(p))
            for p in path.rglob("*")
            if p.is_file() and not p.name.startswith((".", "_"))
        )
        seen.pop(None, None)
        if not seen:
            raise InputError("no Parquet, CSV or JSON-lines files found in folder", path=shown)
        return str(seen.most_common(1)[0][0])
    fmt = _EXTENSIONS.get(_suffix(path))
    if fmt is None:
        with open(path, "rb") as handle:
            if handle.read(4) == b"PAR1":
                return "parquet"
        raise InputError("cannot tell the format from the name; pass --format parquet|csv|json", path=shown)
    return fmt


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst", ".lz4"):
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _file_format(fmt: str, source: str, columns: tuple[str, ...]) -> ds.FileFormat | str:
    if fmt == "parquet":
        # pre_buffer reads whole row groups ahead: it pays on object stores, but on a
        # local disk it only doubles peak memory.
        return ds.ParquetFileFormat(
            read_options=ds.ParquetReadOptions(dictionary_columns=_dictionary_columns(source)),
            default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
        )
    if fmt == "csv" and source.lower().endswith((".tsv", ".tsv.gz")):
        return ds.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter="\t"))
    return fmt


def _dictionary_columns(source: str) -> list[str]:
    """String columns of the first Parquet file that are dictionary-encoded throughout."""
    first = source
    if os.path.isdir(source):
        files = sorted(str(p) for p in Path(source).rglob("*") if _suffix(p) in (".parquet", ".pq"))
        if not files:
            return []
        first = files[0]
    try:
        metadata = pq.ParquetFile(first).metadata
    except (OSError, pa.ArrowException):
        return []  # reported when the dataset itself is read
    if metadata.num_row_groups == 0:
        return []
    group = metadata.row_group(0)
    schema = metadata.schema.to_arrow_schema()
    names = []
    for i in range(group.num_columns):
        chunk = group.column(i)
        name = chunk.path_in_schema
        if name not in schema.names or not pa.types.is_string(schema.field(name).type):
            continue
        per_value = chunk.total_uncompressed_size / max(chunk.num_values, 1)
        if chunk.has_dictionary_page and chunk.num_values and per_value <= DICTIONARY_BYTES_PER_VALUE:
            names.append(name)
    return names


def _parquet_bounds(files: list[str]) -> dict[str, tuple[object, object]]:
    """Min and max of the numeric and temporal columns that every row group has
    statistics for (exact for these types), from the footers alone."""
    bounds: dict[str, tuple[object, object]] = {}
    incomplete: set[str] = set()
    try:
        for path in files:
            metadata = pq.ParquetFile(path).metadata
            schema = metadata.schema.to_arrow_schema()
            for g in range(metadata.num_row_groups):
                group = metadata.row_group(g)
                for i in range(group.num_columns):
                    chunk = group.column(i)
                    name = chunk.path_in_schema
                    if name not in schema.names or name in incomplete:
                        continue
                    kind = schema.field(name).type
                    if not (
                        pa.types.is_integer(kind)
                        or pa.types.is_floating(kind)
                        or pa.types.is_timestamp(kind)
                        or pa.types.is_date(kind)
                    ):
                        continue
                    stats = chunk.statistics
                    if chunk.num_values == 0 or (stats is not None and stats.null_count == chunk.num_values):
                        continue
                    if stats is None or not stats.has_min_max:
                        incomplete.add(name)
                        bounds.pop(name, None)
                        continue
                    low, high = pa.scalar(stats.min, kind), pa.scalar(stats.max, kind)
                    if name in bounds:
                        old_low, old_high = bounds[name]
                        low = low if low.as_py() < old_low.as_py() else old_low  # type: ignore[attr-defined]
                        high = high if high.as_py() > old_high.as_py() else old_high  # type: ignore[attr-defined]
                    bounds[name] = (low, high)
    except (OSError, pa.ArrowException, TypeError, ValueError):
        return {}
    return bounds


def _parquet_rows(dataset: ds.FileSystemDataset) -> int | None:
    try:
        return int(dataset.count_rows())
    except (OSError, pa.ArrowException):
        return None


def path_fingerprint(path: str) -> str:
    """The fingerprint of a local file or folder (every file's size and modification
    time, a Delta table's log included): what tells an unchanged table without reading it."""
    root = Path(path)
    if root.is_file():
        return _fingerprint([str(root)])
    files = sorted(
        str(p)
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    return _fingerprint(files)


def _fingerprint(files: list[str], filesystem: pafs.FileSystem | None = None) -> str:
    fs = filesystem or pafs.LocalFileSystem()
    try:
        infos = fs.get_file_info(list(files))
    except (OSError, pa.ArrowException):
        return stable_hash(sorted(files))
    return stable_hash(sorted((i.path, i.size, str(i.mtime)) for i in infos))


def _open_delta(path: str, shown: str) -> Opened:
    try:
        from deltalake import DeltaTable
    except ImportError as err:
        raise MissingExtraError("reading Delta tables", "delta", "deltalake") from err
    try:
        table = DeltaTable(path)
        dataset = table.to_pyarrow_dataset()
        version = table.version()
    except Exception as err:  # deltalake raises its own exception types
        raise InputError(f"not a readable Delta table: {_short(err)}", path=shown) from err
    total: int | None
    try:
        total = int(dataset.count_rows())
    except (OSError, pa.ArrowException):
        total = None
    return Opened(
        uri=shown,
        format="delta",
        dataset=dataset,
        total_rows=total,
        fingerprint=stable_hash([path, version]),
    )


def _open_remote(uri: str, fmt: str | None) -> Opened:
    scheme = urlparse(uri).scheme.lower()
    if scheme not in _REMOTE:
        raise InputError(
            f"cannot profile a {scheme}:// source; expected a file path, "
            f"file:// or one of {', '.join(s + '://' for s in _REMOTE)}",
            path=uri,
        )
    try:
        filesystem, path = pafs.FileSystem.from_uri(uri)
        info = filesystem.get_file_info(path)
    except (OSError, pa.ArrowException, ValueError) as err:
        raise SourceError(
            f"{uri}: cannot reach the store ({_short(err)}); check that its credentials are configured"
        ) from err
    if info.type == pafs.FileType.NotFound:
        raise InputError("no such file or directory", path=uri)
    name = Path(path)
    fmt = (fmt or "").lower() or _EXTENSIONS.get(_suffix(name)) or "parquet"
    if fmt == "delta":
        return _open_delta(uri, uri)
    try:
        dataset = ds.dataset(path, filesystem=filesystem, format=fmt)
    except (OSError, pa.ArrowException) as err:
        raise SourceError(f"{uri}: cannot read ({_short(err)})") from err
    return Opened(
        uri=uri,
        format=fmt,
        dataset=dataset,
        total_rows=_parquet_rows(dataset) if fmt == "parquet" else None,
        fingerprint=_fingerprint(dataset.files, filesystem),
    )


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
