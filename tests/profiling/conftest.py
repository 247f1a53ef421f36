from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests_profiling_data import NEWEST, NOW, make_table


@pytest.fixture
def table() -> pa.Table:
    return make_table()


@pytest.fixture
def parquet_file(tmp_path: Path, table: pa.Table) -> Path:
    path = tmp_path / "payments.parquet"
    pq.write_table(table, path, row_group_size=1000)
    return path


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def newest() -> datetime:
    return NEWEST
