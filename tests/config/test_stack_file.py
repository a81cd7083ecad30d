"""Stack files read as the Pulumi CLI passes them, and configs that look odd but mean what they say plan."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from components.config import ConfigError, parse_pulumi_config
from components.config.stack_file import stack_file_config
from offline_plan.__main__ import main
from tests.conftest import committed_config
from workers.catalog import PROJECT_DIR

KEY_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/keys-AbCdEf"


def write_stack(directory: Path, name: str, text: str) -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(text)
    return path


def test_the_config_map_is_what_the_cli_passes(tmp_path: Path) -> None:
    path = write_stack(
        tmp_path,
        "qa",
        """config:
  aws:region: us-east-1
  viberator:keepImages: 10
  viberator:pushLatest: false
  viberator:imageRevision: "20240601"
  viberator:harnesses: [claude, codex]
  viberator:network: {vpcId: vpc-0a1b2c3d4e5f60718, subnetIds: [subnet-0a1b2c3d4e5f60001]}
""",
    )
    config, secret_keys = stack_file_config(path)
    assert config == {
        "aws:region": "us-east-1",
        "viberator:keepImages": "10",
        "viberator:pushLatest": "false",
        "viberator:imageRevision": "20240601",
        "viberator:harnesses": '["claude", "codex"]',
        "viberator:network": '{"vpcId": "vpc-0a1b2c3d4e5f60718", "subnetIds": ["subnet-0a1b2c3d4e5f60001"]}',
    }
    assert secret_keys == []
    # The SDK reads that map as a program would: text for `get`, numbers and objects on request.
    runtime_config.set_all_config(config, [])
    try:
        settings = pulumi.Config("viberator")
        assert settings.get("imageRevision") == "20240601"
        assert settings.get_int("keepImages") == 10
        assert settings.get_bool("pushLatest") is False
        assert settings.get_object("harnesses") == ["claude", "codex"]
    finally:
        runtime_config.set_all_config({}, [])


def test_secure_values_are_placeholders_marked_secret(tmp_path: Path) -> None:
    path = write_stack(
        tmp_path,
        "qa",
        """config:
  aws:region: us-east-1
  aws:secretKey: {secure: v1:abc}
  viberator:clankers:
    - {name: worker, agent: claude, target: lambda, environment: {WEBHOOK_URL: {secure: v1:def}}}
""",
    )
    config, secret_keys = stack_file_config(path)
    assert config["aws:secretKey"] == "[secret]"
    assert json.loads(config["viberator:clankers"])[0]["environment"] == {"WEBHOOK_URL": "[secret]"}
    assert secret_keys == ["aws:secretKey", "viberator:clankers"]


def plan_document(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    exit_code = main([*argv, "--format", "json"])
    captured = capsys.readouterr()
    assert exit_code == 0, captured.err
    document: dict[str, Any] = json.loads(captured.out)
    return document


def test_configs_that_mean_what_they_say_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Once refused: a quoted numeric revision and environment, AWS_REGION on ecs, an ECS JSON-key secret."""
    path = write_stack(
        tmp_path,
        "numbers",
        f"""config:
  aws:region: us-east-1
  viberator:environment: "2024"
  viberator:imageRevision: "20240601"
  viberator:harnesses: [claude-code-ecs]
  viberator:clankers:
    - name: bedrock
      agent: claude-code-ecs
      target: ecs
      environment:
        AWS_REGION: us-west-2
        CLAUDE_CODE_USE_BEDROCK: "1"
      # On Bedrock the agent signs with the task role's credentials, which the container credential provider
      # fetches from the endpoint this names.
      agentEnvironment: [AWS_CONTAINER_CREDENTIALS_RELATIVE_URI]
      secrets:
        ANTHROPIC_API_KEY: "{KEY_SECRET}:anthropic::"
""",
    )
    document = plan_document(["--config", str(path)], capsys)
    (task,) = [r for r in document["resources"] if r["type"] == "aws:ecs/taskDefinition:TaskDefinition"]
    (container,) = json.loads(task["inputs"]["containerDefinitions"])
    assert {"name": "AWS_REGION", "value": "us-west-2"} in container["environment"]
    assert container["secrets"] == [{"name": "ANTHROPIC_API_KEY", "valueFrom": f"{KEY_SECRET}:anthropic::"}]
    (policy,) = [r for r in document["resources"] if r["name"] == "bedrock-execution-policy"]
    statements = json.loads(policy["inputs"]["policy"])["Statement"]
    # The role reads the secret; the selector is ECS's, not part of the secret's ARN.
    assert {"Sid": "ReadListedSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue"}.items() <= (
        statements[-1].items()
    )
    assert statements[-1]["Resource"] == [KEY_SECRET]
    (image,) = document["outputs"]["images"].values()
    assert any(":2024-20240601-" in tag for tag in image["tags"])


def test_a_promoting_stack_plans_from_any_folder(tmp_path: Path) -> None:
    copy = shutil.copy(PROJECT_DIR / "Pulumi.prod.yaml", tmp_path / "Pulumi.prod.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "offline_plan", "--config", str(copy), "--format", "json"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The image stack was found in the project and planned; its event loops (and this one's) closed cleanly.
    assert result.stderr == ""
    assert json.loads(result.stdout)["outputs"]["clankers"]


def test_stack_outputs_take_a_whole_plan_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clanker = next(c for c in committed_config("Pulumi.prod.yaml").clankers if c.architecture is None)
    dev = plan_document(["--stack", "dev"], capsys)
    image = dev["outputs"]["images"][clanker.agent]
    image["imageUri"] = pinned = image["imageUri"].replace("sha256:", "sha256:0")[:-1]
    dev_plan = tmp_path / "dev-plan.json"
    dev_plan.write_text(json.dumps(dev))
    prod = plan_document(["--stack", "prod", "--stack-outputs", f"viberator/viberator-workers/dev={dev_plan}"], capsys)
    # prod ran on the given document's outputs, not on a plan of its own of dev.
    deployment = prod["outputs"]["clankers"][clanker.name]["deploymentConfig"]
    assert deployment.get("imageUri", deployment.get("containerImage")) == pinned


MERGED = """config:
  aws:region: us-east-1
  viberator:harnesses: [claude, codex]
  viberator:clankers:
    - &lambda
      name: small
      agent: claude
      target: lambda
      memoryMb: 2048
      timeoutSeconds: 600
      environment: &env
        LOG_LEVEL: info
        TEAM: platform
      secrets: {ANTHROPIC_API_KEY: arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic-AbCdEf}
    - memoryMb: 8192  # the mapping's own key wins, written before the merge or after it
      <<: *lambda
      name: big
    - <<: [{agent: codex, memoryMb: 1024}, *lambda]  # of a list, the first mapping that has a key gives it
      name: codex
      environment:
        <<: *env
        LOG_LEVEL: debug
      secrets: {OPENAI_API_KEY: arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-GhIjKl}
"""
EXPLICIT = """config:
  aws:region: us-east-1
  viberator:harnesses: [claude, codex]
  viberator:clankers:
    - {name: small, agent: claude, target: lambda, memoryMb: 2048, timeoutSeconds: 600,
       environment: {LOG_LEVEL: info, TEAM: platform},
       secrets: {ANTHROPIC_API_KEY: arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic-AbCdEf}}
    - {name: big, agent: claude, target: lambda, memoryMb: 8192, timeoutSeconds: 600,
       environment: {LOG_LEVEL: info, TEAM: platform},
       secrets: {ANTHROPIC_API_KEY: arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic-AbCdEf}}
    - {name: codex, agent: codex, target: lambda, memoryMb: 1024, timeoutSeconds: 600,
       environment: {LOG_LEVEL: debug, TEAM: platform},
       secrets: {OPENAI_API_KEY: arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-GhIjKl}}
"""


def test_merge_keys_resolve_as_yaml_v3_resolves_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """go-yaml/yaml (v3) decode.go: a mapping's own keys are set first and `merge` skips every key already set,
    so they win wherever they are written; a list of merged mappings is merged in order, so its first mapping
    that has a key gives it. The plan is the plan of the same file written out."""
    merged, explicit = write_stack(tmp_path, "merged", MERGED), write_stack(tmp_path / "..", "merged", EXPLICIT)
    assert stack_file_config(merged) == stack_file_config(explicit)
    plans = [plan_document(["--config", str(path)], capsys) for path in (merged, explicit)]
    for plan in plans:
        plan["resources"].sort(key=lambda resource: resource["urn"])  # registered in any order
    assert plans[0] == plans[1]


MUTATIONS: dict[str, Any] = {
    "tab": lambda text: text.replace("\n  ", "\n\t", 2),
    "indent": lambda text: "\n".join(line + "\n " if i % 5 == 3 else line for i, line in enumerate(text.split("\n"))),
    "colon": lambda text: text.replace(": ", ": a: ", 3),
    "cut": lambda text: text[: len(text) * 2 // 3],
    "latin-1": lambda text: (text + "# caf\u00e9\n").encode("latin-1", errors="replace"),
    "utf-16": lambda text: text.encode("utf-16"),
    "utf-8-bom": lambda text: text.encode("utf-8-sig"),
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "binary": lambda text: bytes(range(256)),
    "alias-loop": lambda text: text.replace("config:", "config: &c\n  viberator:loop: *c", 1),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_no_stack_file_ends_in_a_traceback(tmp_path: Path, mutation: str) -> None:
    """Every committed and catalogued stack file, mangled as editors and shells mangle files: read and parsed,
    each is a config or a ConfigError, never another exception."""
    files = sorted(PROJECT_DIR.glob("Pulumi.*.yaml")) + sorted((PROJECT_DIR / "tests/bad_configs").glob("Pulumi.*"))
    for original in files:
        try:
            text = original.read_text()
        except UnicodeDecodeError:
            continue  # the catalogue's own non-UTF-8 files
        mangled = MUTATIONS[mutation](text)
        path = tmp_path / original.name
        path.write_bytes(mangled if isinstance(mangled, bytes) else mangled.encode())
        try:
            config, secret_keys = stack_file_config(path)
            parse_pulumi_config(config, stack="qa", secret_keys=secret_keys)
        except ConfigError as error:
            assert error.issues, original.name
