"""The ``azureml`` source: an Azure ML managed feature store folder.

``azureml:PATH`` where PATH is the folder a feature store is developed in (the layout of
Azure's samples: ``featuresets/<set>/<asset>.yaml`` pointing at a ``spec`` folder with
``FeatureSetSpec.yaml``, and ``entities/<entity>.yaml``). Every YAML below the folder is
classified by content: a feature set asset (has ``specification``), an entity (has
``index_columns`` and no ``source``) or a spec (file named ``FeatureSetSpec.yaml`` in
any capitalisation). Each asset file is one version of a feature set.

A spec that no asset points at is not registered in Azure ML; featmesh still reads it
(so a CI check sees it before it is registered), as an unversioned feature set named
after its folder, with ``extra["registered"] = False`` and a warning.

Model assets whose files hold a ``feature_retrieval_spec.yaml`` are the store's consumers
(:mod:`connector.sources.azureml.consumers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featmesh.connector import progress
from featmesh.connector.errors import InputError
from featmesh.connector.sources import Reader

if TYPE_CHECKING:
    from featmesh.connector.model import FeatureStore
    from featmesh.connector.runreport import SourceReport

KIND = "azureml"
SPEC_NAME = "featuresetspec.yaml"
"""A feature set spec's file name, in any capitalisation (detection goes by it: deciding a
source's kind imports none of the reader's modules)."""


def read(location: str, report: SourceReport, options: Mapping[str, Any]) -> list[FeatureStore]:
    from featmesh.connector.documents import load_yaml
    from featmesh.connector.sources.azureml.consumers import RETRIEVAL_SPEC, is_model_asset, model_consumers
    from featmesh.connector.sources.azureml.store import StoreBuilder, classify
    from featmesh.connector.sources.localfiles import store_files

    root = Path(location)
    if not root.exists():
        raise InputError("no such file or folder", path=location)
    if not root.is_dir():
        raise InputError("expected an Azure ML feature store folder, not a file", path=location)
    builder = StoreBuilder(name=root.resolve().name, uri=location)
    models, retrieval_specs = [], []
    files = _yaml_files(root)
    with progress.meter(f"reading {location}", len(files), "files") as bar:
        for path in files:
            bar.advance()
            if path.name.lower() == SPEC_NAME:
                builder.specs[path.resolve()] = path
                continue
            if path.name.lower() == RETRIEVAL_SPEC:
                retrieval_specs.append(path)
                continue
            doc = load_yaml(path)
            role = classify(doc)
            if role is None and is_model_asset(doc):
                models.append(doc)
                continue
            if role is None:
                report.warn(f"{path}: neither a feature set asset nor an entity; skipped")
                report.count("files_skipped")
                continue
            builder.add(role, doc)
    store = store_files(builder.build(report), root)  # files of the store folder, by their path in it
    consumers = model_consumers(models, retrieval_specs, kind=KIND, report=report)
    report.count("entities", len(store.entities))
    report.count("models", len(consumers))
    return [replace(store, consumers=consumers)]


def detect(path: Path) -> bool:
    """A folder holding a ``FeatureSetSpec.yaml`` or an Azure ML feature set YAML."""
    if not path.is_dir():
        return False
    for i, file in enumerate(_yaml_files(path)):
        if i >= 50:
            return False
        if file.name.lower() == SPEC_NAME:
            return True
        try:
            head = file.read_bytes()[:2048].lower()
        except OSError:
            continue
        if b"azureml/sdk-2-0/featureset" in head or b"azureml/sdk-2-0/featurestoreentity" in head:
            return True
    return False


def _yaml_files(root: Path) -> list[Path]:
    found = [p for pattern in ("*.yaml", "*.yml") for p in root.rglob(pattern)]
    skip = len(root.parts)
    return sorted(p for p in found if p.is_file() and not any(s.startswith(".") for s in p.parts[skip:]))


__all__ = ["KIND", "READER", "detect", "read"]

READER = Reader(
    kind=KIND,
    read=read,
    detect=detect,
    description="Azure ML managed feature store folder (feature set assets, specs, entities)",
)
