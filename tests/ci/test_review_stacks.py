"""ci/review_stacks.py: the label, close and sweep paths of review stacks, and the files the workflow reads."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from ci.review_stacks import (
    COMMENT_MARKER,
    EXPIRES_TAG,
    LABEL,
    JobOutcome,
    comment_body,
    decide_event,
    find_comment,
    main,
    read_outcomes,
    sweep,
)
from offline_plan.stacks import plan_stack_file
from tests.ci.workflow_files import workflow
from tests.conftest import pinned_dev_key
from tests.tooling.engine_fakes import PresentImages
from workers.tooling import signature, stack_outputs
from workers.tooling.run_job import EXIT_REFUSED, JobRequest, RunJobError
from workers.tooling.run_job.local import _local_image

REPO = {"full_name": "viberator/viberator-workers"}
NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def _event(action: str, *, labels: tuple[str, ...] = (), label: str | None = None, **pr: Any) -> dict[str, Any]:
    pull_request = {
        "number": 12,
        "labels": [{"name": name} for name in labels],
        "head": {"repo": pr.pop("head_repo", REPO)},
        "base": {"repo": REPO},
        "user": {"login": pr.pop("author", "octocat")},
    }
    return {"action": action, "pull_request": pull_request, **({"label": {"name": label}} if label else {})}


# Label path ---------------------------------------------------------------------------------------------------


def test_labelling_creates_the_stack():
    decision = decide_event(_event("labeled", labels=(LABEL,), label=LABEL))

    assert (decision.action, decision.stack) == ("up", "pr-12")


@pytest.mark.parametrize("action", ["synchronize", "opened", "reopened"])
def test_every_push_while_labelled_updates_it(action: str):
    assert decide_event(_event(action, labels=(LABEL, "bug"))).action == "up"
    assert decide_event(_event(action, labels=("bug",))).action == "none"


def test_another_label_changes_nothing():
    assert decide_event(_event("labeled", labels=(LABEL, "bug"), label="bug")).action == "none"
    assert decide_event(_event("unlabeled", labels=(LABEL,), label="bug")).action == "none"


def test_unlabelling_destroys_it():
    decision = decide_event(_event("unlabeled", labels=(), label=LABEL))

    assert decision.action == "destroy"
    assert "label was removed" in decision.reason


@pytest.mark.parametrize(
    ("pr", "why"),
    [({"head_repo": {"full_name": "someone/fork"}}, "fork"), ({"head_repo": None}, "fork")],
)
def test_fork_pull_requests_never_get_one(pr: dict[str, Any], why: str):
    for action in ("labeled", "synchronize", "closed", "unlabeled"):
        decision = decide_event(_event(action, labels=(LABEL,), label=LABEL, **pr))
        assert decision.action == "none"
        assert why in decision.reason


def test_dependabot_pull_requests_never_get_one():
    assert decide_event(_event("labeled", labels=(LABEL,), label=LABEL, author="dependabot[bot]")).action == "none"


# Close path ---------------------------------------------------------------------------------------------------


def test_closing_a_labelled_pull_request_destroys_its_stack():
    decision = decide_event(_event("closed", labels=(LABEL,)))

    assert (decision.action, decision.stack) == ("destroy", "pr-12")
    assert decision.reason == "pull request #12 was closed"


def test_closing_an_unlabelled_pull_request_does_nothing():
    assert decide_event(_event("closed", labels=("bug",))).action == "none"


def test_the_event_command_writes_github_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(_event("closed", labels=(LABEL,))))

    assert main(["event", str(path)]) == 0
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert lines.pop("destroy") == json.dumps([{"number": 12, "reason": "pull request #12 was closed"}])
    assert lines == {"action": "destroy", "stack": "pr-12", "number": "12", "reason": "pull request #12 was closed"}


# Sweep path ---------------------------------------------------------------------------------------------------


def _stack(name: str, expires: str | None = "2026-12-05T00:00:00Z") -> dict[str, Any]:
    return {"name": name, "tags": {} if expires is None else {EXPIRES_TAG: expires}}


def _open(number: int, *labels: str) -> dict[str, Any]:
    return {"number": number, "labels": [{"name": label} for label in labels]}


def test_the_sweep_destroys_closed_unlabelled_and_expired_stacks_only():
    stacks = [
        _stack("viberator/dev"),
        _stack("viberator/prod"),
        _stack("viberator/pr-1"),  # open, labelled, not expired
        _stack("viberator/pr-2"),  # closed
        _stack("viberator/pr-3"),  # open, label removed
        _stack("viberator/pr-4", expires="2026-11-30T00:00:00Z"),  # expired
        _stack("viberator/pr-5", expires=None),  # its deploy never tagged it
        _stack("viberator/pr-6", expires="2026-12-01T12:00:00Z"),  # expires now
        _stack("viberator/apr-7"),  # not a review stack's name
    ]
    open_prs = [_open(1, LABEL), _open(3, "bug"), _open(4, LABEL), _open(5, LABEL), _open(6, LABEL), _open(7, LABEL)]

    verdicts = {v.stack: v for v in sweep(stacks, open_prs, NOW)}

    assert set(verdicts) == {f"viberator/pr-{n}" for n in range(1, 7)}, "dev, prod and other names never listed"
    assert {name for name, v in verdicts.items() if v.destroy} == {f"viberator/pr-{n}" for n in range(2, 7)}
    assert verdicts["viberator/pr-2"].reason == "pull request #2 is closed"
    assert "no longer has the review-stack label" in verdicts["viberator/pr-3"].reason
    assert verdicts["viberator/pr-4"].reason == "expired at 2026-11-30T00:00:00Z"
    assert EXPIRES_TAG in verdicts["viberator/pr-5"].reason
    assert verdicts["viberator/pr-1"].reason == "open, labelled, expires 2026-12-05T00:00:00Z"


def test_an_unreadable_expiry_is_destroyed_not_kept_for_ever():
    (verdict,) = sweep([_stack("pr-9", expires="next week")], [_open(9, LABEL)], NOW)

    assert verdict.destroy


def test_the_sweep_command_prints_what_to_destroy(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    stacks, prs = tmp_path / "stacks.json", tmp_path / "prs.json"
    stacks.write_text(json.dumps([_stack("dev"), _stack("pr-1"), _stack("pr-2")]))
    prs.write_text(json.dumps([_open(1, LABEL)]))

    assert main(["sweep", "--stacks", str(stacks), "--pull-requests", str(prs), "--now", "2026-12-01T12:00:00Z"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [{"number": 2, "reason": "pull request #2 is closed"}]
    assert "pr-1: keep" in captured.err


# The stack file and the comment -------------------------------------------------------------------------------


@pytest.mark.parametrize("builds", [False, True])
def test_stack_file_writes_a_review_stack_that_plans(tmp_path: Path, capsys: pytest.CaptureFixture[str], builds: bool):
    output = tmp_path / "Pulumi.pr-12.yaml"

    assert (
        main(
            ["stack-file", "--pr", "12", "--output", str(output), "--now", "2026-12-01T10:30:00Z"]
            + (["--builds"] if builds else [])
        )
        == 0
    )
    assert capsys.readouterr().out == "expires=2026-12-08T10:00:00Z\n"
    plan = plan_stack_file(output)
    assert bool(plan.of_type("docker-build:index:Image")) is builds
    assert plan.named("lambda-function").inputs["tags"]["Expires"] == "2026-12-08T10:00:00Z"


def test_the_comment_shows_each_clankers_job(tmp_path: Path):
    outputs = {
        "clankers": {
            "lambda": {"target": "lambda", "deploymentConfig": {"functionName": "viberator-pr-12-lambda"}},
            "ecs": {"target": "ecs", "deploymentConfig": {"family": "viberator-pr-12-ecs"}},
            "docker": {"target": "docker", "deploymentConfig": {"containerImage": "repo@sha256:abc"}},
        }
    }
    (tmp_path / "lambda.json").write_text(json.dumps({"status": "succeeded"}))
    (tmp_path / "lambda.code").write_text("0\n")
    (tmp_path / "ecs.json").write_text(json.dumps({"status": "failed"}))
    (tmp_path / "ecs.code").write_text("1\n")
    (tmp_path / "ecs.log").write_text("agent said no\n")
    (tmp_path / "docker.code").write_text("4\n")

    outcomes = read_outcomes(outputs, tmp_path)
    body = comment_body("pr-12", outputs, outcomes, "https://run")

    assert body.startswith(COMMENT_MARKER)
    assert "| `lambda` | lambda | `viberator-pr-12-lambda` | :white_check_mark: succeeded (exit 0) |" in body
    assert "| `ecs` | ecs | `viberator-pr-12-ecs` | :x: failed (exit 1) |" in body
    assert "| `docker` | docker | `repo@sha256:abc` | :x: not run (exit 4) |" in body
    assert "agent said no" in body
    assert outcomes == [
        JobOutcome("docker", "docker", 4, None, "(no log)"),
        JobOutcome("ecs", "ecs", 1, {"status": "failed"}, "agent said no"),
        JobOutcome("lambda", "lambda", 0, {"status": "succeeded"}, "(no log)"),
    ]


def test_the_review_comment_is_found_again():
    pages = [[{"id": 1, "body": "LGTM"}], [{"id": 2, "body": f"{COMMENT_MARKER}\n### Review stack `pr-12`"}]]

    assert find_comment(pages) == 2
    assert find_comment([[{"id": 1, "body": f"quoting {COMMENT_MARKER}"}]]) is None


# The smoke job on a review stack's docker clanker --------------------------------------------------------------


def test_the_smoke_job_verifies_a_docker_clanker_of_devs_digests_with_the_pinned_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A review stack of dev's digests exports the key stacks/review.yaml pins, so run-job (which refused it, exit 3,
    while the stack exported none) verifies the pull with it, never with a key dev's outputs name."""
    output = tmp_path / "Pulumi.pr-12.yaml"
    assert main(["stack-file", "--pr", "12", "--output", str(output)]) == 0
    outputs = stack_outputs.from_document(plan_stack_file(output).outputs, "pr-12's outputs")
    reference = outputs.clanker("docker").image
    verify = signature.verifier(None, outputs.document.signing, outputs.source)
    registry = {reference: pinned_dev_key()["publicKey"].encode()}  # dev's deploy signed it with dev's key

    def skopeo_verify(ref: str, public_key_pem: bytes, **_: Any) -> None:
        if registry.get(ref) != public_key_pem:
            raise signature.SignatureRefused(f"refusing {ref}: no valid signature by the expected key")

    monkeypatch.setattr(signature, "verify", skopeo_verify)
    request = JobRequest("docker", outputs.clanker("docker"), {}, placeholder=False, verify=verify)
    assert _local_image(request, reference, PresentImages((reference,)), None, print)[0] == reference  # type: ignore[arg-type]
    registry[reference] = b"-----BEGIN PUBLIC KEY-----\nanother\n-----END PUBLIC KEY-----\n"
    with pytest.raises(RunJobError) as refused:
        _local_image(request, reference, PresentImages((reference,)), None, print)  # type: ignore[arg-type]
    assert refused.value.exit_code == EXIT_REFUSED


def test_a_review_stack_that_builds_signs_its_own_images_and_verifies_them_with_that_key() -> None:
    steps = {step.get("name"): step for step in workflow("review-stack.yml")["jobs"]["up"]["steps"]}
    sign = steps["Sign this stack's own images with a key of this run"]
    assert sign["if"] == "env.BUILDS == 'true'" and sign["env"] == {"COSIGN_PASSWORD": ""}
    assert 'cosign generate-key-pair --output-key-prefix "$RUNNER_TEMP/review"' in sign["run"]
    assert (
        'pushed --indexes "$RUNNER_TEMP/outputs.json"' in sign["run"] and 'key "$RUNNER_TEMP/review.key"' in sign["run"]
    )
    names = list(steps)
    assert names.index("pulumi up") < names.index(sign["name"]) < names.index("Run the example job on each clanker")
    jobs = steps["Run the example job on each clanker"]["run"]
    assert (
        'if [[ $target == docker && $BUILDS == true ]]; then flags+=(--public-key "$RUNNER_TEMP/review.pub"); fi'
        in jobs
    )
