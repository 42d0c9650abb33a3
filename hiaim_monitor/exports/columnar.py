"""The two big tables of an export (samples and beats) read from the store straight into
Arrow columns by an ADBC driver (Arrow Database Connectivity): SQLite's and PostgreSQL's
drivers fill Arrow buffers in C, where Python's database modules make an object of every
value (about 1 µs a row, most of a Parquet export's time).

One query per session and table, all its participants at once, in id order; Arrow puts the
rows in (participant, t_s, id) order and they are handed out per participant. On SQLite the
query reads the session's stretch of the table in rowid order (a session's rows were
written together, so they lie together), not through the (participant, t_s) index, which
would look up every row's page on its own: about three times slower.

Two SQLite libraries in one process (the ADBC wheel links its own; Python's sqlite3 uses
the system's) must not have the same file open at once: POSIX drops every lock a process
holds on a file when any of its descriptors on it is closed, and neither copy knows of the
other's (https://www.sqlite.org/howtocorrupt.html, section 2.2.1). The ADBC connection is
therefore opened only when no connection of this process's engine is in use, after its
idle ones are closed, and closed before the engine is used again. Where that cannot be
(a connection in use, as while a class records in this process) or the database is not a
file (in-memory SQLite), the rows are read through SQLAlchemy's driver instead: same
columns, slower.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hiaim_monitor import config
from hiaim_monitor.exports import data
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage.database import (
    Database,
    StorageError,
    display_url,
    error_detail,
    storage_errors,
)

TIME: Final = pa.timestamp("us", tz="UTC")
# Each participant's rows, as these columns and types (flag_bits: the stored flags).
SAMPLE_COLUMNS: Final = (("t_s", pa.float64()), ("wall_utc", TIME), ("bpm", pa.int16()),
                         ("pct_hrmax", pa.float64()), ("level", pa.int16()),
                         ("flag_bits", pa.int32()), ("contact", pa.string()),
                         ("energy_kj", pa.int32()))
BEAT_COLUMNS: Final = (("t_s", pa.float64()), ("rr_ms", pa.float64()),
                       ("flag_bits", pa.int32()))
# ADBC SQLite reads this many rows a batch; the first batch fixes each column's type from
# the values in it (int64, widened to double or text by what it meets; all NULL stays int64,
# and a later double is then an error: pct_hrmax is read as ifnull(…, 0.0) and a NULL flag).
SQLITE_BATCH_ROWS: int = 65_536

_SAMPLE_SQL: Final = ("t_s, wall_utc, bpm, {pct}, level, flags AS flag_bits, contact, "
                      "energy_kj")
_BEAT_SQL: Final = "t_s, rr_ms, flags AS flag_bits"
_TABLES: Final = {"samples": ("samples", _SAMPLE_SQL, SAMPLE_COLUMNS),
                  "beats": ("rr_intervals", _BEAT_SQL, BEAT_COLUMNS)}


@dataclass(frozen=True, slots=True)
class StoredRows:
    """Every participant's samples and beats, by session_participant_id, in (t_s, id)
    order, as ``SAMPLE_COLUMNS`` and ``BEAT_COLUMNS``; a participant with none is absent."""

    samples: dict[int, dict[str, pa.Array]]
    beats: dict[int, dict[str, pa.Array]]


def read_rows(db: Database, sessions: Sequence[data.ExportSession]) -> StoredRows:
    """The samples and beats of every participant the sessions list."""
    out = StoredRows({}, {})
    with _adbc_query(db) as query:
        for session in sessions:
            ids = [p.session_participant_id for p in session.participants]
            if not ids:
                continue
            for name, into in (("samples", out.samples), ("beats", out.beats)):
                read = (_adbc_read(db, query, name, ids) if query is not None
                        else _driver_read(db, name, ids))
                into.update(read)
    return out


# --- ADBC -------------------------------------------------------------------------------


Query = Callable[[str], pa.Table]


@contextlib.contextmanager
def _adbc_query(db: Database) -> Iterator[Query | None]:
    """A function running one query on the store through ADBC, or None where the rows must
    go through SQLAlchemy. ADBC's low-level API: its DB-API module imports pyarrow.dataset
    (and pandas or polars where installed), a quarter of a second before every export."""
    import adbc_driver_manager as adbc

    backend = db.url.get_backend_name()
    if backend == "sqlite":
        path = _sqlite_file(db)
        if path is None or db.engine.pool.checkedout():
            yield None
            return
        db.engine.dispose()  # no descriptor of the other SQLite library stays open
        import adbc_driver_sqlite as driver

        # Read-only: the export writes nothing, and can create no file of the wrong mode.
        uri = f"file:{urllib.parse.quote(path)}?mode=ro"
        options = {"adbc.sqlite.query.batch_rows": str(SQLITE_BATCH_ROWS)}
    else:
        import adbc_driver_postgresql as driver  # type: ignore[no-redef]

        uri, options = _libpq_uri(db), {}
    try:
        database = driver.connect(uri)
        connection = adbc.AdbcConnection(database)
    except adbc.Error as error:
        raise StorageError(tr(
            "Cannot read the database {db} ({detail}); check that the server is running and "
            "the URL is right.").format(db=db.name, detail=_detail(error))) from None

    def query(sql: str) -> pa.Table:
        with adbc.AdbcStatement(connection) as statement:
            statement.set_options(**options)
            statement.set_sql_query(sql)
            stream, _rows = statement.execute_query()
            return pa.RecordBatchReader.from_stream(stream).read_all()

    try:
        if backend == "sqlite":
            query(f"PRAGMA busy_timeout = {int(config.SQLITE_BUSY_TIMEOUT_S * 1000)}")
        yield query
    except (adbc.Error, OSError) as error:  # OSError: pyarrow's, from the result stream
        raise StorageError(tr("Reading the database {db} failed ({detail}).").format(
            db=db.name, detail=_detail(error))) from None
    finally:
        connection.close()
        database.close()


def _sqlite_file(db: Database) -> str | None:
    """The file SQLAlchemy's connections open (the URL resolved as the driver resolves it:
    relative, absolute, a file: URI), or None for a database in memory only."""
    with storage_errors(db), db.engine.connect() as conn:
        listed = conn.exec_driver_sql("PRAGMA database_list").fetchall()
    return next((file for _seq, name, file in listed if name == "main"), "") or None


def _libpq_uri(db: Database) -> str:
    """The URL as libpq reads it, password included: never shown (``db.name`` is)."""
    url = db.url.set(drivername="postgresql")
    if "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": str(config.PG_CONNECT_TIMEOUT_S)})
    return url.render_as_string(hide_password=False)


def _detail(error: BaseException) -> str:
    # The driver's first line, passwords hidden; the ADBC prefix says nothing to a user.
    detail = error_detail(error)
    for prefix in ("[SQLite] ", "[libpq] ", "IO: ", "INVALID_STATE: "):
        detail = detail.replace(prefix, "")
    return display_url(detail)


def _adbc_read(db: Database, query: Query, name: str, ids: Sequence[int]
               ) -> dict[int, dict[str, pa.Array]]:
    table, select, columns = _TABLES[name]
    in_ids = ", ".join(str(int(i)) for i in ids)  # ints: COPY takes no bound parameters
    if db.url.get_backend_name() == "sqlite":
        sql = (f"SELECT session_participant_id AS sp, "
               f"{select.format(pct='ifnull(pct_hrmax, 0.0) AS pct_hrmax')}"
               f"{', pct_hrmax IS NULL AS pct_null' if name == 'samples' else ''} "
               f"FROM {table} NOT INDEXED WHERE session_participant_id IN ({in_ids}) "
               f"AND id BETWEEN (SELECT min(id) FROM {table} WHERE session_participant_id "
               f"IN ({in_ids})) AND (SELECT max(id) FROM {table} WHERE "
               f"session_participant_id IN ({in_ids})) ORDER BY id")
    else:
        sql = (f"SELECT session_participant_id AS sp, {select.format(pct='pct_hrmax')} "
               f"FROM {table} WHERE session_participant_id IN ({in_ids}) ORDER BY id")
    read = query(sql)
    if "pct_null" in read.column_names:
        pct = pa.array(read["pct_hrmax"].to_numpy(), pa.float64(),
                       mask=read["pct_null"].to_numpy().astype(bool))
        read = read.set_column(read.schema.get_field_index("pct_hrmax"), "pct_hrmax", pct)
    return _per_participant(read, columns)


def _per_participant(read: pa.Table, columns: Sequence[tuple[str, pa.DataType]]
                     ) -> dict[int, dict[str, pa.Array]]:
    """``read`` (sp and ``columns``, in id order) as each participant's ``columns`` in
    (t_s, id) order, converted to their types."""
    if not read.num_rows:
        return {}
    # Arrow's sort is stable: rows of equal t_s stay in id order.
    read = read.sort_by([("sp", "ascending"), ("t_s", "ascending")])
    typed = {n: _typed(read[n].combine_chunks(), kind) for n, kind in columns}
    sp = read["sp"].to_numpy()
    starts = np.flatnonzero(np.r_[True, sp[1:] != sp[:-1]])
    ends = np.r_[starts[1:], len(sp)]
    return {int(sp[a]): {n: v.slice(a, b - a) for n, v in typed.items()}
            for a, b in zip(starts, ends, strict=True)}


def _typed(values: pa.Array, kind: pa.DataType) -> pa.Array:
    if kind == TIME:
        return wall_times(values) if pa.types.is_string(values.type) else values.cast(TIME)
    return values.cast(kind)


def wall_times(text: pa.Array) -> pa.Array:
    """SQLite's wall times (stored in UTC, as the schema's UTCDateTime writes them:
    ``2026-03-02 09:30:00.500000``) as UTC timestamps, parsed by Arrow; a text Arrow does
    not parse is read as UTCDateTime reads it (naive is UTC, an offset converted)."""
    try:
        return pc.cast(text, pa.timestamp("us")).cast(TIME)
    except pa.ArrowInvalid:
        return pa.array([None if v is None else _as_utc(datetime.fromisoformat(v))
                         for v in text.to_pylist()], TIME)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- SQLAlchemy's driver (in-memory SQLite, or a connection of this process in use) ------


def _driver_read(db: Database, name: str, ids: Sequence[int]
                 ) -> dict[int, dict[str, pa.Array]]:
    rows_of = data.sample_rows if name == "samples" else data.beat_rows
    columns = SAMPLE_COLUMNS if name == "samples" else BEAT_COLUMNS
    out = {}
    for sp in ids:
        rows = rows_of(db, sp)
        if rows:
            out[sp] = _driver_table(rows, columns)
    return out


def _driver_table(rows: list[tuple[Any, ...]], columns: Sequence[tuple[str, pa.DataType]]
                  ) -> dict[str, pa.Array]:
    """The driver's tuples as Arrow columns, converted in C (a list of tuples to a struct
    array); SQLite's wall times arrive as text, PostgreSQL's as aware datetimes."""
    names = [n for n, _ in columns]
    as_text = "wall_utc" in names and isinstance(rows[0][names.index("wall_utc")], str)
    kinds = [(n, pa.string() if as_text and n == "wall_utc" else t) for n, t in columns]
    struct = pa.array(rows, type=pa.struct(kinds))
    return {n: _typed(v, t) for (n, t), v in zip(columns, struct.flatten(), strict=True)}
