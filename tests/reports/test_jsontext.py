"""The indented JSON writer gives the text ``json.dumps(value, indent=...)`` gives."""

from __future__ import annotations

import enum
import json
import random

import pytest

from featmesh.connector.reports.jsontext import dumps_indented


class Tier(str, enum.Enum):
    GOLD = "gold"


class Count(int):
    pass


SAMPLES = [
    {},
    [],
    "",
    'é\u2028\U0001f600 \x00\x1f"\\/',
    [[], {}, [[]], {"a": {}}, ()],
    {7: 2, 1.5: True, True: None, False: 0, None: [1.0, -0.0, 1e-7, 1e16, 2.5e300]},
    [float("nan"), float("inf"), -float("inf")],
    (1, "x", (2, (3,))),
    2**70,
    -3,
    None,
    True,
    1.25,
    [Tier.GOLD, Count(3), True, None, False],
    {Tier.GOLD: Count(5), "nested": {"list": [{"k": [1, {"deep": []}]}]}},
]


@pytest.mark.parametrize("value", SAMPLES, ids=range(len(SAMPLES)))
@pytest.mark.parametrize("indent", [2, 4])
def test_the_same_text_as_json_dumps(value: object, indent: int) -> None:
    assert dumps_indented(value, indent) == json.dumps(value, indent=indent)


def test_random_documents_give_the_same_text() -> None:
    rng = random.Random(3)

    def make(depth: int) -> object:
        pick = rng.random()
        if depth > 4 or pick < 0.4:
            return rng.choice(
                [
                    None,
                    True,
                    False,
                    rng.randint(-9, 10**12),
                    rng.random() * 1e6,
                    rng.random() * 10.0 ** rng.randint(-320, 300),  # exponents both ways
                    -(2 ** rng.randint(60, 200)),  # wider than 64 bits
                    "t\u00e9xt",
                    "\x7f\U0001f600\\",
                    "",
                ]
            )
        if pick < 0.7:
            return [make(depth + 1) for _ in range(rng.randint(0, 4))]
        return {
            rng.choice(["a", "b", "c\n", "ü"]) + str(i): make(depth + 1) for i in range(rng.randint(0, 4))
        }

    for _ in range(300):
        value = make(0)
        assert dumps_indented(value) == json.dumps(value, indent=2)
        if isinstance(value, list):  # the same document holding a NaN: written the other way
            assert dumps_indented([*value, float("nan")]) == json.dumps([*value, float("nan")], indent=2)


@pytest.mark.parametrize("value", [object(), {(1, 2): 3}, [set()]], ids=["object", "tuple key", "set"])
def test_what_is_not_json_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        dumps_indented(value)
    with pytest.raises(TypeError):
        json.dumps(value, indent=2)
