from featmesh.connector.catalog.plan import compute_plan, diff_fields


def _e(qn, type_name="featmesh_feature_set", classifications=None, **attrs):
    entity = {
        "typeName": type_name,
        "attributes": {"qualifiedName": qn, "name": qn.rsplit("/", 1)[-1], **attrs},
        "relationshipAttributes": {},
    }
    if classifications is not None:
        entity["classifications"] = classifications
    return entity


def _stored(entity, guid="g"):
    return {**entity, "guid": guid}


def test_create_update_unchanged_delete():
    scope = "featmesh://manifest/s"
    desired = [_e(f"{scope}/a@1", owner="x"), _e(f"{scope}/b@1", owner="y"), _e(f"{scope}/c@1")]
    current = {
        ("featmesh_feature_set", f"{scope}/a@1"): _stored(
            _e(f"{scope}/a@1", owner="x", extraSystemAttr=None)
        ),
        ("featmesh_feature_set", f"{scope}/b@1"): _stored(_e(f"{scope}/b@1", owner="z")),
        ("featmesh_feature_set", f"{scope}/gone@1"): _stored(_e(f"{scope}/gone@1")),
        ("featmesh_data_product", f"{scope}/dp"): _stored(_e(f"{scope}/dp", "featmesh_data_product")),
        ("featmesh_feature_set", "featmesh://manifest/other/x@1"): _stored(
            _e("featmesh://manifest/other/x@1")
        ),
        ("featmesh_feature_set", f"{scope}x/y@1"): _stored(_e(f"{scope}x/y@1")),
    }
    plan = compute_plan(desired, current, delete_scope=[scope], protected=["featmesh_data_product"])
    assert plan.counts() == {"create": 1, "update": 1, "delete": 1, "unchanged": 1, "retire": 0}
    (update,) = plan.of("update")
    assert update.fields == ("owner",)
    assert plan.of("delete")[0].key[1] == f"{scope}/gone@1"


def test_diff_treats_empty_values_and_order_as_equal():
    a = _e("q", tags={}, joinKeys=["b", "a"], description="")
    b = _e("q", joinKeys=["a", "b"])
    assert diff_fields(a, b) == ()
    ref = {"typeName": "T", "uniqueAttributes": {"qualifiedName": "p"}}
    assert (
        diff_fields(
            {**a, "relationshipAttributes": {"store": ref}},
            {
                **b,
                "relationshipAttributes": {
                    "store": {"guid": "1", "typeName": "T", "uniqueAttributes": {"qualifiedName": "p"}}
                },
            },
        )
        == ()
    )
    assert diff_fields(a, _e("q", joinKeys=["a"])) == ("joinKeys",)
    assert diff_fields(_e("q"), _e("q", owner="gone")) == ("owner",)


def test_classifications_replace_only_featmesh_owned_and_ignore_volatile_attributes():
    old = [
        {"typeName": "FEATMESH.NON_COMPLIANT", "attributes": {"score": 40.0, "evaluatedAt": 1, "runId": "a"}},
        {"typeName": "MICROSOFT.PERSONAL.EMAIL", "attributes": {}},
    ]
    new = [{"typeName": "FEATMESH.COMPLIANT", "attributes": {"score": 95.0, "evaluatedAt": 2, "runId": "b"}}]
    current = {("featmesh_feature_set", "q"): _stored(_e("q", classifications=old))}
    plan = compute_plan([_e("q", classifications=new)], current)
    assert [(c.action, c.name) for c in plan.classifications] == [
        ("add", "FEATMESH.COMPLIANT"),
        ("remove", "FEATMESH.NON_COMPLIANT"),
    ]
    same = [
        {"typeName": "FEATMESH.NON_COMPLIANT", "attributes": {"score": 40.0, "evaluatedAt": 9, "runId": "z"}}
    ]
    again = compute_plan([_e("q", classifications=same)], current)
    assert again.classifications == [] and not again.writes
    changed = [{"typeName": "FEATMESH.NON_COMPLIANT", "attributes": {"score": 41.0, "evaluatedAt": 9}}]
    assert [c.action for c in compute_plan([_e("q", classifications=changed)], current).classifications] == [
        "update"
    ]
