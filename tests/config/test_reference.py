"""The configuration reference is generated from the models (components/config/reference.py): the committed page is
what the models say today, and every key a user can set says what it does."""

from __future__ import annotations

from pydantic import BaseModel

from components.config.reference import _blocks, reference
from components.config_model.stack import StackConfig
from components.targets import CLANKER_MODELS
from workers.catalog import PROJECT_DIR

PAGE = PROJECT_DIR / "docs" / "configuration-reference.md"


def test_the_committed_reference_is_the_models_own() -> None:
    assert PAGE.read_text() == reference(), "the config models changed: run `make docs` and commit the page"


def test_every_key_says_what_it_does() -> None:
    models: list[type[BaseModel]] = [StackConfig, *_blocks().values(), *CLANKER_MODELS.values()]
    silent = [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert silent == [], "add a Field(description=…): the reference is generated from it"
