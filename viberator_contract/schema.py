"""The JSON Schema of the stack outputs, generated from the models; `python -m viberator_contract.schema`
prints it, `make schema` writes it to `SCHEMA_PATH`, and a test fails when the committed file is stale.

Readers in other languages validate against the committed file; Python readers use the models."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from viberator_contract.outputs import SCHEMA_VERSION, StackOutputs

SCHEMA_PATH = Path(__file__).with_name("outputs.schema.json")
SCHEMA_ID = f"https://viberator.dev/schemas/stack-outputs/v{SCHEMA_VERSION}.json"


class _ContractSchema(GenerateJsonSchema):
    """An optional field of the models is `None` in Python, and absent, never null, in the outputs."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            del generated["default"]
        return generated

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # pydantic writes a key pattern as `patternProperties`, which leaves every other key unchecked: the
        # contract refuses them (`propertyNames`).
        generated = super().dict_schema(schema)
        if "patternProperties" in generated:
            ((pattern, values),) = generated.pop("patternProperties").items()
            generated.update(propertyNames={"pattern": pattern}, additionalProperties=values)
        return generated

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # the camelCase name is the title; pydantic's "Image Uri" only adds noise


def generated_schema() -> dict[str, Any]:
    schema = StackOutputs.model_json_schema(by_alias=True, schema_generator=_ContractSchema)
    definitions = schema.pop("$defs")  # after the document they define, as a reader reads it
    return {"$schema": GenerateJsonSchema.schema_dialect, "$id": SCHEMA_ID, **schema, "$defs": definitions}


def schema_text() -> str:
    return json.dumps(generated_schema(), indent=2) + "\n"


@cache
def outputs_schema() -> dict[str, Any]:
    """The committed schema (equal to `generated_schema()`, which the tests check), without pydantic's cost of
    generating it."""
    return dict(json.loads(SCHEMA_PATH.read_text()))


if __name__ == "__main__":
    sys.stdout.write(schema_text())
