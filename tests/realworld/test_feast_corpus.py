"""What each Feast repo of the corpus is there for, beyond the SDK listing
(``test_feast_oracles.py``): the identities of its data, and the rules `featmesh check` runs
on it. Each folder's SOURCE.md names the repository, the commit and the licence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from featmesh.connector.model import STREAM, FeatureSet, FeatureStore
from featmesh.connector.runreport import SourceReport
from featmesh.connector.sources import parse_source, read_source
from tests.conftest import run_json

HERE = Path(__file__).parent


def scan(repo: str) -> FeatureStore:
    spec = parse_source(f"feast:{HERE / repo / 'registry.db'}")
    (store,) = read_source(spec, SourceReport(uri=spec.uri, kind=spec.kind))
    return store


def named(store: FeatureStore, name: str) -> FeatureSet:
    return next(fs for fs in store.feature_sets if fs.name == name)


def check(repo: str) -> tuple[int, dict[str, Any]]:
    result, doc = run_json("check", f"feast:{HERE / repo / 'registry.db'}", "--format", "json")
    return result.exit_code, doc


def results(doc: dict[str, Any], rule: str) -> dict[str, tuple[str, str]]:
    """``{set name: (state, message)}`` of one rule in a `check --format json` document."""
    return {
        r["target"].rsplit("/", 1)[-1].removesuffix("@latest"): (r["state"], r["message"])
        for r in doc["results"]
        if r["rule"] == rule
    }


def test_credit_scoring_keys_dob_ssn_and_zipcode_are_pii_left_untagged() -> None:
    """aws-solutions-library-samples' credit-scoring repo keys its views by ``dob_ssn``
    (date of birth and the last four SSN digits) and ``zipcode``, and tags neither."""
    code, doc = check("feast-aws-credit-scoring")
    assert code == 1  # errors at the default fail_on
    pii = results(doc, "pii-keys-tagged")
    assert pii["credit_history"][0] == "failed" and "join key 'dob_ssn'" in pii["credit_history"][1]
    assert pii["zipcode_features"][0] == "failed" and "join key 'zipcode'" in pii["zipcode_features"][1]
    scores = doc["sets"]["featmesh://feast/credit_scoring_aws/credit_history@latest"]
    assert scores["dimensions"]["security"] < 100


def test_credit_scoring_reads_redshift_tables_by_database_schema_and_table() -> None:
    store = scan("feast-aws-credit-scoring")
    uris = {fs.name: [(s.kind, s.uri) for s in fs.sources] for fs in store.feature_sets}
    assert uris == {
        "credit_history": [("redshift", "dev.spectrum.credit_history")],
        "zipcode_features": [("redshift", "dev.spectrum.zipcode_features")],
    }


def test_a_tagged_pii_key_passes() -> None:
    """The banking repo tags its ``customer`` entity ``pii: "true"``; its sets pass."""
    _, doc = check("feast-banking")
    pii = results(doc, "pii-keys-tagged")
    assert len(pii) == 18 and {state for state, _ in pii.values()} == {"passed"}
    # its domains come from each view's own `domain` tag; the one view without is found
    domains = results(doc, "domain-declared")
    assert [n for n, (state, _) in domains.items() if state == "failed"] == ["calculate_simple_risk_score"]


def test_banking_feature_tags_and_multi_entity_views() -> None:
    store = scan("feast-banking")
    view = named(store, "customer_atm_interaction")
    assert [(k.name, k.dtype) for k in view.join_keys] == [("customer_id", "string"), ("atm_id", "string")]
    assert view.features[0].tags["owner"] == "operations_team@bank.com"
    assert len(store.consumers) == 10


def test_a_plugin_source_is_qualified_by_its_project() -> None:
    """IBM's quickstart reads a table through a third-party plugin (``ibm_data_engine``):
    its table name means something only inside that plugin's store, so two Feast
    projects reading a table of the same name must not share one data product."""
    store = scan("feast-ibm-quickstart")
    (source,) = named(store, "driver_hourly_stats").sources
    assert (source.kind, source.uri) == ("custom", "custom:feast/test_plugin/driver_stats_demo")
    assert source.extra["class"] == "ibm_data_engine.data_engine_offline_store.DataEngineDataSource"
    assert source.extra["configuration"]["table"] == "driver_stats_demo"


def test_a_plugin_source_with_a_url_keeps_it() -> None:
    from featmesh.connector.sources.feast.datasources import _custom

    class Options:
        def __init__(self, configuration: bytes) -> None:
            self.configuration = configuration

    class Source:
        name = "events"

        def __init__(self, configuration: bytes) -> None:
            self.custom_options = Options(configuration)

        def HasField(self, field: str) -> bool:
            return field == "custom_options"

    assert _custom(Source(b'{"path": "s3://bucket/events/"}'))[1] == "s3://bucket/events/"
    assert _custom(Source(b'{"table": "events"}'))[1] == "custom:events"
    assert _custom(Source(b""))[1] == "custom:events"


def test_an_absolute_path_as_the_author_wrote_it_stays() -> None:
    """Hamilton's example keeps the author's own absolute path: nothing to resolve."""
    store = scan("feast-hamilton")
    source = named(store, "driver_hourly_stats").sources[0]
    assert source.uri.startswith("/home/") and "path_as_written" not in source.extra
    fresh = named(store, "driver_hourly_stats_fresh")
    assert fresh.kind == STREAM
    assert ("push", "push:feast/default_feature_store/driver_stats_push_source") in {
        (s.kind, s.uri) for s in fresh.sources
    }


def test_a_feature_service_projection_reads_only_its_features() -> None:
    store = scan("feast-hamilton")
    v1 = next(c for c in store.consumers if c.name == "driver_activity_v1")
    assert {r.feature_set.name: r.features for r in v1.reads}["driver_hourly_stats"] == ("conv_rate",)


def test_on_demand_keys_take_their_entity_type_from_the_views() -> None:
    """Feast records the ``driver`` entity without a type; the view keyed by it gives
    ``driver_id`` as Int64, and the on-demand views over that view now say so too."""
    store = scan("feast-hamilton")
    for name in ("transformed_conv_rate", "transformed_conv_rate_fresh"):
        assert [(k.name, k.dtype) for k in named(store, name).join_keys] == [("driver_id", "int64")]


def test_a_view_on_a_kafka_source_is_a_stream_set() -> None:
    """The home-credit repo puts a KafkaSource (with a Delta batch source) under a plain
    FeatureView: Feast keeps both, and the set is a stream set."""
    store = scan("feast-homecredit")
    view = named(store, "stream_flink_merged_bureau_balance")
    assert view.kind == STREAM
    kafka = next(s for s in view.sources if s.kind == "kafka")
    assert kafka.uri == "kafka://kafka-cluster-0-kafka-bootstrap.kafka.svc.cluster.local:9092/flink-merged-bureau"
    assert kafka.extra["watermark_delay_seconds"] == 300
    delta = next(s for s in view.sources if s.kind != "kafka")
    assert (delta.uri, delta.extra["table_format"]) == ("s3a://data-mart/fact_bureau_balance", "delta")
    assert sum(fs.kind == STREAM for fs in store.feature_sets) == 1


def test_a_join_key_typed_int64_by_one_entity_and_string_by_another_is_flagged() -> None:
    """The home-credit repo's entities ``bureau_balance`` (``sk_id_bureau``, Int64) and
    ``stream_bureau_balance`` (``sk_id_bureau``, String): the two views keyed by them
    cannot be joined on the key. Its other ten views share ``sk_id_curr`` as Int64."""
    _, doc = check("feast-homecredit")
    got = results(doc, "join-key-type-consistent")
    failed = {name: message for name, (state, message) in got.items() if state == "failed"}
    assert failed == {
        "bureau_balance": "join key 'sk_id_bureau' is 'int64' here but 'string' in "
        "featmesh://feast/homecredit/stream_flink_merged_bureau_balance@latest of the same store",
        "stream_flink_merged_bureau_balance": "join key 'sk_id_bureau' is 'string' here but "
        "'int64' in featmesh://feast/homecredit/bureau_balance@latest of the same store",
    }
    assert len(got) == 12
    severities = {
        r["severity"]
        for r in doc["results"]
        if r["rule"] == "join-key-type-consistent" and r["state"] == "failed"
    }
    assert severities == {"warning"}


def test_a_registry_written_by_an_older_feast_is_checked_whole() -> None:
    """IBM's repo was built with Feast 0.40 (its plugin's pin), the others with 0.67."""
    code, doc = check("feast-ibm-quickstart")
    assert code == 1 and not doc["problems"]
    assert list(doc["sets"]) == ["featmesh://feast/test_plugin/driver_hourly_stats@latest"]
    assert results(doc, "source-resolves")["driver_hourly_stats"][0] == "passed"


def test_the_2021_tutorial_on_feast_0_12_reads_whole() -> None:
    """aws-samples' copy of Feast's credit-scoring tutorial, built with the Feast it pins
    (0.12.1): unnamed Redshift sources defined by queries, which lead to the tables they
    read; ``dob_ssn`` described as date of birth and SSN digits is flagged untagged."""
    store = scan("feast-aws-samples-credit-scoring")
    history = named(store, "credit_history")
    (source,) = history.sources
    assert (source.kind, source.uri, source.name) == ("redshift", "spectrum.credit_history", None)
    assert source.extra["query"] == "SELECT * FROM spectrum.credit_history"
    assert "query_source" not in source.extra
    (entity,) = [e for e in store.entities if e.name == "dob_ssn"]
    assert "social security number" in entity.description
    _, doc = check("feast-aws-samples-credit-scoring")
    pii = results(doc, "pii-keys-tagged")
    assert pii["credit_history"][0] == "failed" and "dob_ssn" in pii["credit_history"][1]


def test_unnamed_query_sources_that_do_not_parse_stay_apart() -> None:
    """Older Feast (0.12) let a query source go unnamed: two of them must not become one
    data product when their queries cannot be parsed into tables."""
    from featmesh.connector.sources.feast.datasources import _table_source

    class Options:
        table = ""
        database = schema = data_source = ""

        def __init__(self, query: str) -> None:
            self.query = query

    class Source:
        name = ""

    first = _table_source(Source(), Options("SELEC broken one"), "redshift")[1]
    second = _table_source(Source(), Options("SELEC broken two"), "redshift")[1]
    assert first.startswith("redshift:query/sha256-") and first != second


def test_two_copies_of_one_tutorial_need_two_store_names(tmp_path: Path) -> None:
    """Both Amazon repos keep the tutorial's project name ``credit_scoring_aws``: scanned
    together, the second is refused with the reason on the exit line; named apart in
    featmesh.yaml, both are read."""
    from tests.conftest import run

    first = HERE / "feast-aws-credit-scoring" / "registry.db"
    second = HERE / "feast-aws-samples-credit-scoring" / "registry.db"
    db = tmp_path / "c.db"
    result = run("scan", f"feast:{first}", f"feast:{second}", "--catalog", f"local:{db}")
    assert result.exit_code == 3
    assert (
        "exit 3: the run is incomplete: 1 source could not be read "
        f"(first: feast:{second}: store feast/credit_scoring_aws is also read from source"
    ) in result.stderr
    config = tmp_path / "featmesh.yaml"
    config.write_text(
        "version: 1\nsources:\n"
        f"  - {{uri: 'feast:{first}', store: credit_scoring_2024}}\n"
        f"  - {{uri: 'feast:{second}', store: credit_scoring_2021}}\n"
        f"catalog: {{uri: 'local:{tmp_path / 'd.db'}'}}\n"
    )
    result, doc = run_json("scan", "--config", str(config), "--json")
    assert [s["status"] for s in doc["sources"]] == ["ok", "ok"], result.stderr
    assert (doc["counts"]["stores"], doc["counts"]["feature_sets"]) == (2, 4)
