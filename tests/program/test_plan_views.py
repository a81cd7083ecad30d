"""What a reviewer reads: the text plan (`make plan > plan.txt`) and the diff (`make plan DIFF=<ref|plan.json>`)."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from components.config.stack_file import stack_file_config
from offline_plan.diff import diff_plans, value_changes
from offline_plan.engine import run_program
from offline_plan.render import render_plan
from tests.agent_secrets import with_agent_key, with_agent_keys
from tests.conftest import committed_config, committed_plan, git, make_plan, project_repository, sample_plan
from workers.catalog import PROJECT_DIR

FUNCTION = "aws:lambda/function:Function"
TASK = "aws:ecs/taskDefinition:TaskDefinition"


def run_plan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`make plan` as a user pipes it, in a fresh interpreter running the code of the checkout at `cwd`."""
    return subprocess.run(
        [sys.executable, "-m", "offline_plan", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def dev_json() -> dict[str, Any]:
    return copy.deepcopy(committed_plan("Pulumi.dev.yaml").to_json())


def sample_json() -> dict[str, Any]:
    """The sample dev plan (the tests' own clankers, tests/stacks/sample-clankers.yaml): for tests naming them."""
    return copy.deepcopy(sample_plan("dev").to_json())


def resource(document: dict[str, Any], name: str) -> dict[str, Any]:
    (match,) = [r for r in document["resources"] if r["name"] == name]
    return match


# --- The diff of two plans. ---


def holding_codex_key(clanker: dict[str, Any]) -> dict[str, Any]:
    """`clanker` with codex's API key among its secrets too (a multi-agent clanker has it already), so that
    switching it to codex changes its agent and nothing else."""
    return {**clanker, "secrets": with_agent_key({**clanker, "agent": "codex"})["secrets"]}


def test_an_agent_switch_updates_only_that_function_image() -> None:
    config, secret_keys = stack_file_config(PROJECT_DIR / "Pulumi.dev.yaml")
    clankers = json.loads(config["viberator:clankers"])
    index = next(i for i, c in enumerate(clankers) if c["target"] == "lambda" and c["agent"] != "codex")
    switched = clankers[index] = holding_codex_key(clankers[index])
    base = run_program("dev", {**config, "viberator:clankers": json.dumps(clankers)}, secret_keys=secret_keys)
    agent, switched["agent"] = switched["agent"], "codex"
    head = run_program("dev", {**config, "viberator:clankers": json.dumps(clankers)}, secret_keys=secret_keys)

    diff = diff_plans(base.to_json(), head.to_json(), {"file": "base.json"})

    (change,) = diff["changes"]
    assert (change["op"], change["type"], change["name"]) == ("update", FUNCTION, f"{switched['name']}-function")
    assert "imageUri" in change["changedInputs"]
    assert change["after"]["imageUri"] == head.outputs["images"]["codex"]["imageUri"]
    assert diff["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 0}
    assert diff["outputs"][f"clankers.{switched['name']}.agent"] == {"before": agent, "after": "codex"}
    assert all(path.startswith(f"clankers.{switched['name']}.") for path in diff["outputs"])


def test_an_identical_plan_is_no_change() -> None:
    diff = diff_plans(dev_json(), dev_json(), {"file": "base.json"})
    assert (diff["changes"], diff["outputs"]) == ([], {})
    assert diff["summary"] == {"create": 0, "update": 0, "replace": 0, "delete": 0}


@pytest.mark.parametrize(
    ("name", "key", "value", "op"),
    [
        ("multi-agent-function", "name", "viberator-dev-renamed", "replace"),  # function_name is ForceNew
        ("multi-agent-function", "memorySize", 8192, "update"),
        ("claude-ecs-task", "cpu", "2048", "replace"),  # a task definition revision can't be edited
        ("claude-ecs-task", "tags", {"Team": "x"}, "update"),
        ("claude-repository", "name", "viberator-worker-other", "replace"),
        ("multi-agent-logs", "name", "/aws/lambda/other", "replace"),
        ("multi-agent-logs", "retentionInDays", 90, "update"),
    ],
)
def test_a_changed_input_the_provider_cannot_update_in_place_replaces(name: str, key: str, value: Any, op: str) -> None:
    base, head = sample_json(), sample_json()
    resource(head, name)["inputs"][key] = value
    (change,) = diff_plans(base, head, {"file": "base.json"})["changes"]
    assert (change["name"], change["op"], change["changedInputs"]) == (name, op, [key])
    assert change["before"] == {key: resource(base, name)["inputs"][key]}
    assert change["after"] == {key: value}


def test_unprotecting_a_resource_is_a_change_a_reviewer_sees() -> None:
    base, head = sample_json(), sample_json()
    resource(head, "claude-repository")["options"]["protect"] = False
    (change,) = diff_plans(base, head, {"file": "base.json"})["changes"]
    assert (change["name"], change["op"], change["changedInputs"]) == (
        "claude-repository",
        "update",
        ["options.protect"],
    )
    assert (change["before"], change["after"]) == ({"options.protect": True}, {"options.protect": False})


def test_resources_only_in_one_plan_are_created_or_deleted() -> None:
    base, head = sample_json(), sample_json()
    gone = resource(head, "codex-floating-function")
    head["resources"].remove(gone)
    added = resource(base, "multi-agent-logs")
    base["resources"].remove(added)
    changes = {c["name"]: c for c in diff_plans(base, head, {"file": "base.json"})["changes"]}
    assert changes["codex-floating-function"]["op"] == "delete"
    assert changes["codex-floating-function"]["before"] == gone["inputs"]
    assert changes["codex-floating-function"]["after"] is None
    assert changes["multi-agent-logs"]["op"] == "create"
    assert changes["multi-agent-logs"]["before"] is None


def test_a_change_inside_a_json_document_is_named_by_its_path() -> None:
    base = resource(sample_json(), "multi-agent-role-policy")["inputs"]["policy"]
    document = json.loads(base)
    document["Statement"][1]["Action"] = "secretsmanager:*"
    (change,) = value_changes(base, json.dumps(document), "policy")
    assert (change.path, change.before, change.after) == (
        "policy.Statement[1].Action",
        "secretsmanager:GetSecretValue",
        "secretsmanager:*",
    )


# --- The CLI: DIFF=<plan.json>, and a git ref in a scratch repository. ---


def test_cli_diff_against_a_plan_file(tmp_path: Path) -> None:
    base = dev_json()
    clanker = next(c for c in committed_config("Pulumi.dev.yaml").clankers if c.target == "lambda")
    memory = resource(base, f"{clanker.name}-function")["inputs"]["memorySize"]
    resource(base, f"{clanker.name}-function")["inputs"]["memorySize"] = memory + 1
    # By name: registrations arrive in no fixed order, so "the last one" could be the function just changed.
    base["resources"].remove(resource(base, f"{clanker.name}-logs"))
    (tmp_path / "base.json").write_text(json.dumps(base))

    result = make_plan("--stack", "dev", "--format", "json", "--diff", str(tmp_path / "base.json"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"stack", "base", "changes", "outputs", "summary"}
    assert document["base"] == {"file": str(tmp_path / "base.json")}
    for change in document["changes"]:
        assert set(change) == {"urn", "type", "name", "op", "changedInputs", "before", "after"}
    assert document["summary"]["update"] == 1 and document["summary"]["create"] == 1

    text = make_plan("--stack", "dev", "--diff", str(tmp_path / "base.json"))
    assert f"memorySize: {memory + 1} → {memory}" in text.stdout
    assert "Summary: 1 to create, 1 to update, 0 to replace, 0 to delete; 0 outputs change" in text.stdout


def test_cli_refuses_a_base_that_is_neither_a_ref_nor_a_plan_of_this_stack(tmp_path: Path) -> None:
    unknown = make_plan("--stack", "dev", "--diff", "no-such-ref")
    assert unknown.returncode == 2
    assert 'DIFF = "no-such-ref": neither a plan JSON file nor a git commit' in unknown.stderr
    (tmp_path / "dev.json").write_text(json.dumps(dev_json()))
    other = make_plan("--stack", "prod", "--diff", str(tmp_path / "dev.json"))
    assert other.returncode == 2
    assert "a plan of stack dev, not of prod" in other.stderr


def test_secrets_stay_masked_in_a_diff(tmp_path: Path) -> None:
    config = {
        "aws:region": "us-east-1",
        "viberator:harnesses": ["claude"],
        "viberator:clankers": with_agent_keys([{"name": "worker", "agent": "claude", "target": "lambda"}]),
    }
    stack = tmp_path / "Pulumi.qa.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    base = make_plan("--config", str(stack), "--format", "json")
    assert base.returncode == 0, base.stderr
    (tmp_path / "base.json").write_text(base.stdout)
    config["viberator:clankers"][0]["environment"] = {"WEBHOOK_URL": {"secure": "v1:c2VjcmV0LWNpcGhlcnRleHQ="}}
    stack.write_text(yaml.safe_dump({"config": config}))

    for output_format in ("text", "json"):
        result = make_plan("--config", str(stack), "--format", output_format, "--diff", str(tmp_path / "base.json"))
        assert result.returncode == 0, result.stderr
        assert "[secret]" in result.stdout
        assert "v1:c2VjcmV0" not in result.stdout


@pytest.fixture
def scratch_repository(tmp_path: Path) -> Path:
    """This project's program and dev stack narrowed to one Lambda clanker and the images it switches between."""
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
    lambdas = (c for c in config["viberator:clankers"] if c["target"] == "lambda" and c["agent"] != "codex")
    clanker = holding_codex_key(next(lambdas))
    narrowed = {**config, "viberator:harnesses": sorted({clanker["agent"], "codex"}), "viberator:clankers": [clanker]}
    return project_repository(tmp_path / "project", narrowed)


def _worktrees(repository: Path) -> str:
    return subprocess.run(["git", "worktree", "list"], cwd=repository, capture_output=True, text=True).stdout


def test_cli_diff_against_a_git_ref_plans_the_ref_in_a_worktree_it_removes(scratch_repository: Path) -> None:
    """An agent switch, then a README-only commit, diffed against the commit before both: the ref's own code plans
    it in a worktree, removed after. The switched function is the one change, so the README commit changed no
    image input (a revision follows the build context, not HEAD: workers/revision.py) and planning in another
    checkout changed nothing else."""
    stack = scratch_repository / "Pulumi.dev.yaml"
    document = yaml.safe_load(stack.read_text())
    lambdas = [c for c in document["config"]["viberator:clankers"] if c["target"] == "lambda"]
    switched = next(c for c in lambdas if c["agent"] != "codex")
    switched["agent"] = "codex"
    stack.write_text(yaml.safe_dump(document))
    git(scratch_repository, "commit", "-qam", "switch an agent")
    (scratch_repository / "README.md").write_text("a README-only change\n")
    git(scratch_repository, "commit", "-qam", "docs")

    result = run_plan("--stack", "dev", "--format", "json", "--diff", "HEAD~2", cwd=scratch_repository)
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    (change,) = diff["changes"]
    assert (change["op"], change["name"]) == ("update", f"{switched['name']}-function")
    assert "imageUri" in change["changedInputs"]
    assert diff["outputs"] and all(path.startswith(f"clankers.{switched['name']}.") for path in diff["outputs"])
    assert diff["base"]["ref"] == "HEAD~2"
    assert len(_worktrees(scratch_repository).splitlines()) == 1


# --- The text plan. ---


@pytest.fixture(scope="module")
def plan_txt() -> str:
    """`make -s plan > plan.txt` of dev."""
    result = make_plan("--stack", "dev")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_piped_plan_holds_every_image_uri_whole(plan_txt: str) -> None:
    outputs = committed_plan("Pulumi.dev.yaml").outputs
    uris = [image["imageUri"] for image in outputs["images"].values()]
    uris += [
        c["deploymentConfig"].get("imageUri") or c["deploymentConfig"]["containerImage"]
        for c in outputs["clankers"].values()
    ]
    assert uris
    for uri in uris:
        assert uri in plan_txt


def test_a_piped_plan_names_the_environment_secrets_and_granted_actions(plan_txt: str) -> None:
    dev = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
    for clanker in dev["viberator:clankers"]:
        for name in clanker.get("environment", {}):
            assert f"environment {name}" in plan_txt
        for name, arn in clanker.get("secrets", {}).items():
            assert f"secret {name} from {arn}" in plan_txt
            assert "Allow secretsmanager:GetSecretValue on arn:aws:secretsmanager:" in plan_txt
        if clanker["target"] != "docker":
            assert "Allow logs:CreateLogStream, logs:PutLogEvents on arn:aws:logs:" in plan_txt
    for clanker in committed_plan("Pulumi.dev.yaml").outputs["clankers"].values():
        if clanker["target"] == "ecs":
            assert f"container worker image {clanker['deploymentConfig']['containerImage']}" in plan_txt


def test_the_tree_lists_every_clanker_in_config_order_docker_ones_too(plan_txt: str) -> None:
    names = [
        c["name"] for c in yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]["viberator:clankers"]
    ]
    tree = plan_txt.split("┏", 1)[0]
    positions = [
        tree.index(f"Clanker {name}" if f"Clanker {name}" in tree else f"docker clanker {name}") for name in names
    ]
    assert positions == sorted(positions)
    for clanker in committed_config("Pulumi.dev.yaml").clankers:
        if clanker.target == "docker":
            assert f"docker clanker {clanker.name}  image=" in tree


def test_the_plan_counts_resources_per_type(plan_txt: str) -> None:
    plan = committed_plan("Pulumi.dev.yaml")
    for type_ in {r.type for r in plan.resources}:
        assert f"│ {type_} " in plan_txt
        count = len(plan.of_type(type_))
        assert any(
            line.startswith(f"│ {type_} ") and line.rstrip("│ ").endswith(f" {count}") for line in plan_txt.splitlines()
        )


def test_a_terminal_plan_fits_the_terminal() -> None:
    out = io.StringIO()
    render_plan(committed_plan("Pulumi.dev.yaml"), Console(file=out, width=100))
    assert max(map(len, out.getvalue().splitlines())) <= 100


def test_make_help_lists_the_plan_variables() -> None:
    result = subprocess.run(["make", "--no-print-directory", "help"], cwd=PROJECT_DIR, capture_output=True, text=True)
    (plan_line,) = [line for line in result.stdout.splitlines() if line.strip().startswith("plan ")]
    for variable in ("STACK=", "CONFIG=", "FORMAT=", "PREVIEW=", "DIFF=", "STACK_OUTPUTS="):
        assert variable in plan_line


def test_fork_pull_requests_get_the_diff_against_their_base() -> None:
    workflow = yaml.safe_load((PROJECT_DIR / ".github/workflows/preview.yml").read_text())
    (step,) = [
        s for s in workflow["jobs"]["offline-plan"]["steps"] if "make --no-print-directory plan" in s.get("run", "")
    ]
    assert step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert 'DIFF="${BASE_SHA}"' in step["run"]
