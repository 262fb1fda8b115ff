"""The pull request ``mlops-actions refresh --publish`` opens: its title (plain text) and description."""

from __future__ import annotations

from mlops_actions.monitoring.refresh import Repin
from mlops_actions.reporting.markdown import md_code
from mlops_actions.reporting.tables import table


def pr_title(repin: Repin) -> str:
    return f"Refresh data of {repin.model}: sha256 {repin.new[:12]}"


def pr_body(repin: Repin, run_url: str | None = None) -> str:
    """The pull request's description (the URL and names escaped: they come from the spec)."""
    rows = [["pinned", f"`{repin.old}`"], ["now served", f"`{repin.new}` ({repin.size:,} bytes)"],
            *([["version id", md_code(repin.version)]] if repin.version else [])]
    lines = [
        f"## Refresh: new data for {md_code(repin.model)}", "",
        f"The source {md_code(repin.url)} now serves different bytes (read twice, identical both times). "
        f"This pull request updates the pin in {md_code(repin.relpath)}:", "",
        table(["", "sha256"], rows, compact=True), "",
        "Merging it runs the normal pipeline: `plan` sees the new data hash, `train` retrains, the report "
        "compares with the version in production, and the usual approvals apply.", "",
        "_Opened by `mlops-actions refresh`; later runs update this pull request when the source changes again._"]
    if run_url:
        lines.append(f"_Last run: {run_url}_")
    return "\n".join(lines) + "\n"
