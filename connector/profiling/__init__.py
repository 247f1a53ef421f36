"""Profiling of the data behind feature sets with pyarrow: quality metrics, PII
sampling, freshness and drift.

What the rest of featmesh calls:

* ``profile_feature_set(fs, options) -> tuple[SourceProfile, ...]``: one result per
  source (``ok`` with a DatasetProfile, ``failed`` with the error, or ``skipped``);
* ``profile_dataset(uri, options) -> DatasetProfile`` (raises FeatmeshError);
* ``compute_drift(previous, current) -> list[FeatureDrift]``;
* ``profile_to_json`` / ``profile_from_json`` for storage, ``feature_profile_json``
  for the catalog's per-feature ``profile`` attribute, ``feature_columns`` to find a
  feature's column profile.
"""

from __future__ import annotations

from featmesh.connector.model import ColumnProfile, DatasetProfile, FeatureSet
from featmesh.connector.profiling.drift import compute_drift, frequency_shift, psi
from featmesh.connector.profiling.profiler import (
    ProfileOptions,
    SourceProfile,
    profile_dataset,
    profile_feature_set,
)
from featmesh.connector.profiling.serialize import (
    feature_profile_json,
    profile_from_dict,
    profile_from_json,
    profile_to_dict,
    profile_to_json,
)


def feature_columns(
    fs: FeatureSet, profiles: tuple[SourceProfile, ...]
) -> dict[str, tuple[ColumnProfile, DatasetProfile]]:
    """Each feature's column profile (by its first source column, else its name),
    from the first successfully profiled source that has it."""
    found: dict[str, tuple[ColumnProfile, DatasetProfile]] = {}
    for feature in fs.features:
        column = (feature.source_columns or (feature.name,))[0]
        for result in profiles:
            if result.profile is None:
                continue
            profile = result.profile.column(column) or result.profile.column(feature.name)
            if profile is not None:
                found[feature.name] = (profile, result.profile)
                break
    return found


__all__ = [
    "ProfileOptions",
    "SourceProfile",
    "compute_drift",
    "feature_columns",
    "feature_profile_json",
    "frequency_shift",
    "profile_dataset",
    "profile_feature_set",
    "profile_from_dict",
    "profile_from_json",
    "profile_to_dict",
    "profile_to_json",
    "psi",
]
