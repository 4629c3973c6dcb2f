"""Write one frame, or a dict of frames, to CSV or Parquet in one call.

Parquet needs the optional ``pyarrow`` package (``pip install clobkit[parquet]``); without it
:func:`export` raises :class:`MissingDependency` naming the package before writing anything.
Object columns holding tuples or dicts (history inputs/outputs, event details) are written as
their ``repr`` for Parquet, which cannot store mixed Python objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clobkit.errors import InvalidArgument, InvalidType, MissingDependency
from clobkit.views.common import is_frame

__all__ = ["FORMATS", "MissingDependency", "export"]

FORMATS = ("csv", "parquet")


def export(frames: Any, path: str | Path, format: str | None = None) -> list[Path]:
    """Write a DataFrame to ``path``, or a dict of them to files ``path/<key>.<format>``.

    ``format`` is ``"csv"`` or ``"parquet"``; ``None`` takes it from ``path``'s suffix for a
    single frame (``.parquet``/``.pq`` -> parquet, else csv) and means csv for a dict.
    Returns the paths written, in key order. CSV is written without the index. O(rows).

    >>> import pandas as pd, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in export({"a": pd.DataFrame({"x": [1]})}, d)]
    ['a.csv']

    Raises :class:`InvalidArgument` for an unknown format or a dict key that is not a plain
    file name, :class:`InvalidType` for something that is not a frame, and
    :class:`MissingDependency` for parquet without pyarrow.
    """
    target = Path(path)
    if format is None:
        single = is_frame(frames)
        format = "parquet" if single and target.suffix.lower() in (".parquet", ".pq") else "csv"
    if format not in FORMATS:
        raise InvalidArgument(f"format must be one of {FORMATS}, got {format!r}")
    if is_frame(frames):
        items = [(target, frames)]
    elif isinstance(frames, dict):
        items = []
        for key, frame in frames.items():
            name = str(key)
            if not name or "/" in name or "\\" in name or name in (".", ".."):
                raise InvalidArgument(f"frame names must be plain file names, got {key!r}")
            items.append((target / f"{name}.{format}", frame))
    else:
        raise InvalidType(
            f"frames must be a DataFrame or a dict of them, got {type(frames).__name__}"
        )
    for _, frame in items:
        if not is_frame(frame):
            raise InvalidType(f"every value must be a DataFrame, got {type(frame).__name__}")
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise MissingDependency(
                "format='parquet' needs the 'pyarrow' package: pip install pyarrow "
                "(or clobkit[parquet])"
            ) from None
    written = []
    for file, frame in items:
        file.parent.mkdir(parents=True, exist_ok=True)
        if format == "csv":
            frame.to_csv(file, index=False)
        else:
            _parquet_ready(frame).to_parquet(file, index=False)
        written.append(file)
    return written


def _parquet_ready(frame: Any) -> Any:
    """``frame`` with object columns that hold non-strings turned into their repr."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == object and not all(v is None or isinstance(v, str) for v in column):
            out[name] = [None if v is None else repr(v) for v in column]
    return out
