"""What the repository says about CI's authority is made from the code: docs/ci.md's tables are the access
tables' current output, it holds no hand-written trust policy, and CODEOWNERS covers what decides authority."""

from __future__ import annotations

from pathlib import Path

from access.docs import tables
from workers.catalog import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()
CI_PAGE = (PROJECT_DIR / "docs" / "ci.md").read_text()


def test_the_ci_page_s_tables_are_the_access_tables() -> None:
    assert tables() in CI_PAGE, "stale: run `make access-docs`"


def test_the_readme_carries_no_hand_written_trust_policy() -> None:
    for page in (README, CI_PAGE):
        assert "AssumeRoleWithWebIdentity" not in page
        assert '"Federated"' not in page and "ReadOnlyAccess" not in page


def test_codeowners_covers_workflows_policy_access_code_and_stack_configs() -> None:
    owned = {
        line.split()[0]
        for line in (PROJECT_DIR / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {"/.github/workflows/", "/.github/actions/", "/access/", "/policy/", "/Pulumi.*.yaml", "/stacks/"} <= owned
    for pattern in owned:
        assert list(PROJECT_DIR.glob(pattern.strip("/"))) or Path(PROJECT_DIR, pattern.strip("/")).exists(), pattern
