"""An unknown key inside a nested setting is matched against that block's own keys, at any depth and for every
block (components/config/validation_errors.py reads the block from the models' field types): a misspelt
`viberator:signing.signerRol` is answered with signerRole, not with the top level's keys."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, parse_stack_config


def issues(**values: Any) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values, stack="dev", region="us-east-1")
    return [str(issue) for issue in raised.value.issues]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"builder": {"nmae": "remote"}}, 'viberator:builder.nmae = "remote": unknown key: did you mean name?'),
        ({"network": {"vpcID": "x"}}, 'viberator:network.vpcID = "x": unknown key: did you mean vpcId?'),
        (
            {"buildCache": {"writerRol": "x"}},
            'viberator:buildCache.writerRol = "x": unknown key: did you mean writerRole?',
        ),
        ({"signing": {"signerRol": "x"}}, 'viberator:signing.signerRol = "x": unknown key: did you mean signerRole?'),
        ({"review": {"pullRequets": 1}}, "viberator:review.pullRequets = 1: unknown key: did you mean pullRequest?"),
        ({"images": {"form": "x"}}, 'viberator:images.form = "x": unknown key: did you mean from?'),
        # Two levels down, and through a list's item.
        (
            {"images": {"from": "o/p/dev", "signing": {"keyArm": "x"}}},
            'viberator:images.signing.keyArm = "x": unknown key: did you mean keyArn?',
        ),
        ({"replicas": [{"regoin": "x"}]}, 'viberator:replicas[0].regoin = "x": unknown key: did you mean region?'),
    ],
)
def test_an_unknown_nested_key_is_matched_against_its_own_block(values: dict[str, Any], expected: str) -> None:
    assert expected in issues(**values)
