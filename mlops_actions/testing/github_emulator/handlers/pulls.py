"""Pull requests: get, list (state, head, base), by commit, files, commits, reviews."""

from __future__ import annotations

from ..api import Call, Reply, invalid, not_found, paginate
from ..gitdata import CommitObject, GitData, Person
from ..server import route
from ..state import Pull, now_iso

STATES = ("open", "closed", "all")


def find_pull(call: Call) -> Pull:
    """The pull request of the path's ``pull_number`` (404 when there is none)."""
    found = call.state.pulls.get((call.full_name, call.int_param("pull_number")))
    if found is None:
        raise not_found()
    return found


def get_pull(call: Call) -> Reply:
    return Reply(200, call.render.pull(find_pull(call)))


def list_pulls(call: Call) -> Reply:
    state = call.query.get("state", "open")
    if state not in STATES:
        raise invalid("PullRequest", "state")
    pulls = [p for p in _repo_pulls(call) if state in ("all", p.state) and _matches(call, p)]
    pulls.sort(key=lambda p: p.number, reverse=call.query.get("direction", "desc") == "desc")
    return paginate(call, pulls, lambda p: call.render.pull(p, "pull-request-simple"))


def _repo_pulls(call: Call) -> list[Pull]:
    return [p for p in call.state.pulls.values() if p.repo == call.full_name]


def _matches(call: Call, pull: Pull) -> bool:
    head, base = call.query.get("head"), call.query.get("base")
    owner = (pull.head_repo or pull.repo).split("/")[0]
    head_ok = head is None or head in (f"{owner}:{pull.head_ref}", pull.head_ref)
    return head_ok and (base is None or base == pull.base_ref)


def pulls_of_commit(call: Call) -> Reply:
    sha = call.params["commit_sha"]
    git = call.state.git[call.full_name]
    resolved = git.resolve(sha) or sha
    pulls = [p for p in _repo_pulls(call) if _associated(git, p, resolved)]
    if not pulls and git.commit(resolved) is None and not _known_sha(call, resolved):
        raise invalid("Commit", "commit_sha", "invalid", f"No commit found for SHA: {sha}")
    pulls.sort(key=lambda p: p.number, reverse=True)
    return paginate(call, pulls, lambda p: call.render.pull(p, "pull-request-simple"))


def _associated(git: GitData, pull: Pull, sha: str) -> bool:
    """Whether ``sha`` is the pull request's head or merge commit, or one of its commits."""
    if sha in (pull.head_sha, pull.merge_commit_sha, *pull.commits, *pull.merged_commits):
        return True
    return git.is_ancestor(sha, pull.head_sha) and not git.is_ancestor(sha, pull.base_sha)


def _known_sha(call: Call, sha: str) -> bool:
    return any(sha in (p.base_sha, p.head_sha) for p in _repo_pulls(call))


def pull_files(call: Call) -> Reply:
    pull = find_pull(call)
    files = pull.files or call.state.git[pull.repo].changed_files(pull.base_sha, pull.head_sha)
    return paginate(call, files, lambda f: _diff_entry(call, pull, f))


def _diff_entry(call: Call, pull: Pull, entry: dict[str, object]) -> dict[str, object]:
    name = str(entry["filename"])
    additions, deletions = int(str(entry.get("additions", 0))), int(str(entry.get("deletions", 0)))
    web, api = call.render.web(pull.repo), call.render.api(pull.repo)
    return call.render.fill("diff-entry", {
        "sha": entry.get("sha", "0" * 40), "filename": name, "status": entry.get("status", "modified"),
        "additions": additions, "deletions": deletions, "changes": additions + deletions,
        "blob_url": f"{web}/blob/{pull.head_sha}/{name}", "raw_url": f"{web}/raw/{pull.head_sha}/{name}",
        "contents_url": f"{api}/contents/{name}?ref={pull.head_sha}",
        **({"patch": entry["patch"]} if "patch" in entry else {}),
        **({"previous_filename": entry["previous_filename"]} if "previous_filename" in entry else {}),
    })  # fmt: skip


def pull_commits(call: Call) -> Reply:
    pull = find_pull(call)
    git = call.state.git[pull.repo]
    commits = [git.commit(sha) or _placeholder(pull, sha) for sha in (pull.commits or [pull.head_sha])]
    return paginate(call, commits, lambda c: call.render.commit(pull.repo, c))


def _placeholder(pull: Pull, sha: str) -> CommitObject:
    person = Person(pull.user, f"{pull.user}@users.noreply.github.com", pull.created_at)
    return CommitObject(sha, pull.title, person, person, "4b825dc642cb6eb9a060e54bf8d69288fbee4904", (pull.base_sha,))


def list_reviews(call: Call) -> Reply:
    pull = find_pull(call)
    reviews = sorted((r for r in call.state.reviews.values() if (r.repo, r.pull_number) == (pull.repo, pull.number)),
                     key=lambda r: r.id)  # fmt: skip
    return paginate(call, reviews, call.render.review)


def create_review(call: Call) -> Reply:
    from ..state import Review

    pull = find_pull(call)
    event = call.field("event", str, "COMMENT", "PullRequestReview")
    states = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
    if event not in states:
        raise invalid("PullRequestReview", "event")
    review = Review(pull.repo, pull.number, call.state.next_id(), call.login, states[event],
                    call.field("commit_id", str, pull.head_sha), call.text("body", "", "PullRequestReview"),
                    now_iso())  # fmt: skip
    call.state.reviews[review.id] = review
    return Reply(200, call.render.review(review))


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", get_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", pull_files),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits", pull_commits),
    route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", list_reviews),
    route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", create_review, "read"),
    route("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls", pulls_of_commit),
]
