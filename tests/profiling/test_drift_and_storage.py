from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests_profiling_data import make_table

from featmesh.connector.errors import InputError
from featmesh.connector.model import DatasetProfile
from featmesh.connector.profiling import (
    ProfileOptions,
    compute_drift,
    feature_profile_json,
    profile_dataset,
    profile_from_json,
    profile_to_json,
)


def _profile(tmp_path: Path, name: str, shift: float, now: datetime, seed: int = 1) -> DatasetProfile:
    path = tmp_path / f"{name}.parquet"
    pq.write_table(make_table(seed=seed, shift=shift), path)
    return profile_dataset(str(path), ProfileOptions(now=now))


def test_json_round_trip_is_lossless(tmp_path: Path, now: datetime) -> None:
    profile = _profile(tmp_path, "a", 0.0, now)
    text = profile_to_json(profile)
    assert profile_from_json(text) == profile
    assert json.loads(text)["format_version"] == 1


def test_bad_stored_profile_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not JSON"):
        profile_from_json("{")
    with pytest.raises(InputError, match="not a stored dataset profile"):
        profile_from_json('{"uri": "x"}')


def test_same_distribution_has_no_drift(tmp_path: Path, now: datetime) -> None:
    before = _profile(tmp_path, "a", 0.0, now, seed=1)
    after = _profile(tmp_path, "b", 0.0, now, seed=2)
    drift = {d.column: d for d in compute_drift(before, after)}
    assert drift["amount"].metric == "psi" and drift["amount"].value < 0.05
    assert drift["category"].metric == "frequency_shift" and drift["category"].value < 0.05
    assert drift["amount"].previous_profiled_at == before.profiled_at
    assert "id" in drift and "contact" not in drift  # identifiers and PII have no categories


def test_shifted_distribution_drifts(tmp_path: Path, now: datetime) -> None:
    before = _profile(tmp_path, "a", 0.0, now, seed=1)
    after = _profile(tmp_path, "b", 15.0, now, seed=2)  # one standard deviation
    drift = {d.column: d for d in compute_drift(before, after)}
    assert drift["amount"].value > 0.25  # the usual "significant shift" threshold


def test_category_shift(tmp_path: Path, now: datetime) -> None:
    before = _profile(tmp_path, "a", 0.0, now)
    category = before.column("category")
    assert category is not None
    moved = replace(category, top_values=(("a", 1000), ("b", 1500), ("c", 2500)))
    after = replace(before, columns=tuple(moved if c.name == "category" else c for c in before.columns))
    drift = {d.column: d for d in compute_drift(before, after)}
    assert drift["category"].value == pytest.approx(0.3, abs=0.02)


def test_feature_profile_json_is_compact_and_withholds_pii(tmp_path: Path, now: datetime) -> None:
    profile = _profile(tmp_path, "a", 0.0, now)
    amount = json.loads(feature_profile_json(profile.column("amount"), profile))  # type: ignore[arg-type]
    assert amount["nulls"] == 500 and amount["null_fraction"] == 0.1
    assert {"mean", "stddev", "p50", "min", "max", "profiled_at"} <= set(amount)
    contact_text = feature_profile_json(profile.column("contact"), profile)  # type: ignore[arg-type]
    assert json.loads(contact_text)["pii"] == ["email"]
    assert "@" not in contact_text and " " not in contact_text
    ts = json.loads(feature_profile_json(profile.column("event_timestamp"), profile))  # type: ignore[arg-type]
    assert ts["freshness_lag_seconds"] == profile.freshness_lag_seconds
