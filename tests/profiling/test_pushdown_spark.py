"""The push-down profiler on a real local Spark session agrees with the pyarrow profiler
on the same Parquet data: exact counts equal, distinct within the stated error,
quantiles within their rank error. Needs Java and ``featmesh[spark]``; run with
``pytest -m spark``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pushdown_agreement import assert_agree, make_mixed, remember_exact
from tests_profiling_data import NOW

from featmesh.connector.profiling import profile_dataset
from featmesh.connector.profiling.dialect import SPARK
from featmesh.connector.profiling.profiler import ProfileOptions
from featmesh.connector.profiling.pushdown import PushdownOptions, profile_relation

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java: install openjdk-17-jre-headless")
    from featmesh.connector.profiling.engines import SparkEngine

    engine = SparkEngine("local[1]", shuffle_partitions=2)
    yield engine
    engine.session.stop()


def test_local_spark_agrees_with_pyarrow(spark: Any, tmp_path: Path) -> None:
    table = make_mixed(n=6000)
    path = tmp_path / "mixed.parquet"
    pq.write_table(table, path, row_group_size=1000)
    remember_exact(table)
    local = profile_dataset(str(path), ProfileOptions(now=NOW, distinct_limit=1500))
    options = PushdownOptions(now=NOW, distinct_limit=1500, sample_size=3000)
    pushed = profile_relation(spark, spark.relation(str(path)), options, uri=str(path))
    assert pushed.engine == "spark"
    assert_agree(local, pushed, accuracy=options.accuracy)
    user = pushed.column("user_id")
    assert user is not None and not user.distinct_exact and user.distinct_error == SPARK.distinct_error
    assert spark.bytes_received < 20_000
