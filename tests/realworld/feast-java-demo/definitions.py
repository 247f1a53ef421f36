"""featmesh's own restatement of the java-demo feature repo's definitions (the objects
registry.db holds, with the same names, types and arguments), for the tests of findings
placed at a Feast repo's Python. featmesh parses this file with ``ast`` and never imports
it; Feast is not installed beside featmesh."""

from datetime import timedelta

from feast import Entity, FeatureView, Field, FileSource, RequestSource
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float32, Float64, Int64, String

driver = Entity(name="driver_id", description="driver id")

stats_file = FileSource(
    path="data/driver_stats_with_string.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)

hourly = FeatureView(
    name="driver_hourly_stats",
    source=stats_file,
    entities=[driver],
    ttl=timedelta(days=365),
    online=True,
    tags={},
    schema=[
        Field(name="conv_rate", dtype=Float32),
        Field(name="acc_rate", dtype=Float32),
        Field(name="avg_daily_trips", dtype=Int64),
        Field(name="string_feature", dtype=String),
    ],
)

request_values = RequestSource(
    name="vals_to_add",
    schema=[Field(name="val_to_add", dtype=Int64), Field(name="val_to_add_2", dtype=Int64)],
)


@on_demand_feature_view(
    sources=[hourly, request_values],
    schema=[
        Field(name="conv_rate_plus_val1", dtype=Float64),
        Field(name="conv_rate_plus_val2", dtype=Float64),
    ],
)
def transformed_conv_rate(inputs):
    return inputs.assign(
        conv_rate_plus_val1=inputs["conv_rate"] + inputs["val_to_add"],
        conv_rate_plus_val2=inputs["conv_rate"] + inputs["val_to_add_2"],
    )
