"""Azure ML models that read the feature store: model assets and their retrieval specs.

When a model is trained on feature store features, the SDK writes the features it used as a
*feature retrieval specification*, ``feature_retrieval_spec.yaml``, and packages it with the
model's files (``azureml-featurestore``: ``FeatureRetrievalSpec.serialize_to_file`` and
``dump``; the Azure ML tutorial "Experiment and train models by using features",
MicrosoftDocs/azure-docs ``articles/machine-learning/tutorial-experiment-train-models-using-features.md``).
Its shape, as the SDK writes it::

    serialization_version: 2
    feature_stores:
      - uri: azureml://subscriptions/SUB/resourcegroups/RG/workspaces/FEATURE_STORE
        location: eastus
        workspace_id: ...
        features:
          - {feature_set: transactions:1, feature_name: transaction_amount_7d_sum}

A model asset (CLI v2 ``model.schema.json``: ``name``, ``version``, ``path``, ``type``,
``description``, ``tags``) whose ``path`` folder holds such a file is a consumer of kind
``model``; a retrieval spec no model asset points at is read as an unregistered model named
after its folder, with a warning. The feature store a reference names is the last segment of
its ``uri`` (the feature store's workspace name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from featmesh.connector.documents import Document, load_yaml
from featmesh.connector.model import Consumer, ConsumerRead, FeatureSetRef, Origin
from featmesh.connector.runreport import SourceReport

RETRIEVAL_SPEC = "feature_retrieval_spec.yaml"
MODEL_TYPES = ("custom_model", "mlflow_model", "triton_model")
_STORE_URI = re.compile(r"/workspaces/(?P<name>[^/]+)/?$", re.IGNORECASE)


def is_model_asset(doc: Document) -> bool:
    data = doc.data
    if not isinstance(data, dict) or "name" not in data or "path" not in data:
        return False
    declared = str(data.get("$schema", "")).lower()
    return declared.endswith("model.schema.json") or data.get("type") in MODEL_TYPES


def model_consumers(
    models: Iterable[Document], specs: Iterable[Path], *, kind: str, report: SourceReport
) -> tuple[Consumer, ...]:
    """Every model asset with a retrieval spec, then every spec no asset points at."""
    by_folder = {p.parent.resolve(): p for p in specs}
    used: set[Path] = set()
    out = []
    for doc in models:
        folder = (Path(doc.path).parent / str(doc.data["path"])).resolve()
        spec_path = folder / RETRIEVAL_SPEC if folder.is_dir() else None
        if spec_path is None or not spec_path.is_file():
            report.warn(
                f"{doc.path}: model '{doc.data['name']}' has no {RETRIEVAL_SPEC}; it reads no features"
            )
            continue
        used.add(folder)
        data = doc.data
        version = data.get("version")
        tags = {str(k): str(v) for k, v in (data.get("tags") or {}).items()}
        out.append(
            Consumer(
                kind="model",
                name=str(data["name"]),
                version=None if version is None else str(version),
                owner=tags.get("owner"),
                description=str(data.get("description") or ""),
                registered_at=f"azureml:{data['name']}" + (f":{version}" if version is not None else ""),
                reads=_reads(load_yaml(spec_path), kind),
                tags=tags,
                extra={"model_type": data["type"]} if data.get("type") else {},
                origin=Origin(path=doc.path, pointer="path"),
            )
        )
    for folder, spec_path in sorted(by_folder.items()):
        if folder in used:
            continue
        report.warn(
            f"{spec_path}: no model asset points at this retrieval spec; read as model '{folder.name}'"
        )
        out.append(
            Consumer(
                kind="model",
                name=folder.name,
                reads=_reads(load_yaml(spec_path), kind),
                origin=Origin(path=str(spec_path)),
            )
        )
    return tuple(out)


def _reads(doc: Document, kind: str) -> tuple[ConsumerRead, ...]:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("feature_stores"), list):
        raise doc.error("not a feature retrieval spec: expected a 'feature_stores' list", ())
    merged: dict[tuple[str, str, str | None], list[str]] = {}
    for i, entry in enumerate(data["feature_stores"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("uri"), str):
            raise doc.error("each feature store needs a 'uri'", ("feature_stores", i))
        match = _STORE_URI.search(entry["uri"])
        if match is None:
            raise doc.error(
                f"'{entry['uri']}' is not a feature store URI (azureml://subscriptions/.../workspaces/NAME)",
                ("feature_stores", i, "uri"),
            )
        for j, feature in enumerate(entry.get("features") or []):
            where = ("feature_stores", i, "features", j)
            if (
                not isinstance(feature, dict)
                or not feature.get("feature_set")
                or not feature.get("feature_name")
            ):
                raise doc.error("each feature needs 'feature_set' (NAME:VERSION) and 'feature_name'", where)
            name, _, version = str(feature["feature_set"]).partition(":")
            key = (match["name"], name, version or None)
            merged.setdefault(key, []).append(str(feature["feature_name"]))
    return tuple(
        ConsumerRead(
            feature_set=FeatureSetRef(store_kind=kind, store=store, name=name, version=version),
            features=tuple(dict.fromkeys(features)),
        )
        for (store, name, version), features in merged.items()
    )
