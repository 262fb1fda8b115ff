"""State -> GitHub's JSON. Every object starts from its schema's skeleton (``skeletons.json``), so it
carries every required field, then gets the values the emulator knows. All URLs point at ``base``.
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

from .gitdata import CommitObject, Person, TagObject
from .state import (
    Asset,
    CheckRun,
    Comment,
    CommitStatus,
    Deployment,
    DeploymentStatus,
    Environment,
    Issue,
    IssueEvent,
    Pull,
    Release,
    Repo,
    Review,
    State,
    Team,
    User,
    at_least,
)  # fmt: skip

_REPO_URLS = {
    "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}", "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}", "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}", "contributors_url": "/contributors",
    "deployments_url": "/deployments", "downloads_url": "/downloads", "events_url": "/events",
    "forks_url": "/forks", "git_commits_url": "/git/commits{/sha}", "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}", "hooks_url": "/hooks", "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}", "issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}", "languages_url": "/languages", "merges_url": "/merges",
    "milestones_url": "/milestones{/number}", "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}", "releases_url": "/releases{/id}", "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}", "subscribers_url": "/subscribers", "subscription_url": "/subscription",
    "tags_url": "/tags", "teams_url": "/teams", "trees_url": "/git/trees{/sha}",
}  # fmt: skip
_USER_URLS = {
    "followers_url": "/followers", "following_url": "/following{/other_user}", "gists_url": "/gists{/gist_id}",
    "starred_url": "/starred{/owner}{/repo}", "subscriptions_url": "/subscriptions",
    "organizations_url": "/orgs", "repos_url": "/repos", "events_url": "/events{/privacy}",
    "received_events_url": "/received_events",
}  # fmt: skip


@functools.lru_cache(maxsize=1)
def _skeletons() -> dict[str, Any]:
    return json.loads(Path(__file__).with_name("skeletons.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=256)
def _skeleton_text(schema: str, base: str) -> str:
    """The skeleton of ``schema`` as JSON text, its URLs under ``base`` (parsed afresh for every use)."""
    return json.dumps(_skeletons()[schema]).replace("{api}", base)


def node_id(kind: str, ident: int | str) -> str:
    """A GitHub-like global node id, e.g. ``PR_kwDOAAAD6Q``."""
    return f"{kind}_kwDO" + base64.b64encode(str(ident).encode()).decode().rstrip("=")


class Renderer:
    """Renders state objects as GitHub's JSON, with URLs under ``base``."""

    def __init__(self, state: State, base: str) -> None:
        self.state = state
        self.base = base.rstrip("/")

    def fill(self, schema: str, values: dict[str, Any]) -> dict[str, Any]:
        """The skeleton of ``schema`` overlaid with ``values``."""
        return {**json.loads(_skeleton_text(schema, self.base)), **values}

    def api(self, repo: str) -> str:
        return f"{self.base}/repos/{repo}"

    def web(self, repo: str) -> str:
        return f"{self.base}/{repo}"

    def user(self, login: str | None) -> dict[str, Any] | None:
        if login is None:
            return None
        user = self.state.users.get(login) or User(login=login, id=0)
        url = f"{self.base}/users/{user.login}"
        links = {key: url + suffix for key, suffix in _USER_URLS.items()}
        return self.fill("simple-user", {
            **links, "login": user.login, "id": user.id, "node_id": node_id("U", user.id),
            "avatar_url": f"{self.base}/avatars/{user.login}", "gravatar_id": "", "url": url,
            "html_url": f"{self.base}/{user.login}", "type": user.type, "site_admin": False,
            "user_view_type": "public",
        })  # fmt: skip

    def public_user(self, login: str) -> dict[str, Any]:
        user = self.state.users[login]
        simple = self.user(login) or {}
        return self.fill("public-user", {**simple, "name": user.name, "email": user.email})

    def repository(self, repo: Repo, schema: str = "full-repository") -> dict[str, Any]:
        api, full = self.api(repo.full_name), repo.full_name
        urls = {key: api + suffix for key, suffix in _REPO_URLS.items()}
        values = {
            **urls, "id": repo.id, "node_id": node_id("R", repo.id), "name": repo.name, "full_name": full,
            "owner": self.user(repo.owner), "private": repo.private, "html_url": self.web(full),
            "description": repo.description, "fork": False, "url": api,
            "git_url": f"{self.web(full)}.git", "ssh_url": f"{self.web(full)}.git",
            "clone_url": f"{self.web(full)}.git", "svn_url": self.web(full),
            "default_branch": repo.default_branch, "created_at": repo.created_at,
            "updated_at": repo.created_at, "pushed_at": repo.created_at,
            "visibility": "private" if repo.private else "public", "has_issues": True,
        }  # fmt: skip
        return self.fill(schema, self._known(schema, values))

    def _known(self, schema: str, values: dict[str, Any]) -> dict[str, Any]:
        keys = set(_skeletons()[schema]) | {"visibility", "has_issues", "pushed_at", "created_at", "updated_at"}
        return {key: value for key, value in values.items() if key in keys}

    def author_association(self, repo: str, login: str) -> str:
        record = self.state.repos[repo]
        if login == record.owner:
            return "OWNER"
        return "COLLABORATOR" if at_least(self.state.permission(record, login), "write") else "CONTRIBUTOR"

    def issue(self, issue: Issue) -> dict[str, Any]:
        api = f"{self.api(issue.repo)}/issues/{issue.number}"
        values = {
            "id": issue.id, "node_id": node_id("I", issue.id), "number": issue.number, "url": api,
            "repository_url": self.api(issue.repo), "labels_url": api + "/labels{/name}",
            "comments_url": api + "/comments", "events_url": api + "/events",
            "html_url": f"{self.web(issue.repo)}/issues/{issue.number}", "title": issue.title,
            "user": self.user(issue.user), "labels": [self.label(issue.repo, name) for name in issue.labels],
            "state": issue.state, "state_reason": issue.state_reason, "locked": False,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(login) for login in issue.assignees], "comments": issue.comments,
            "created_at": issue.created_at, "updated_at": issue.updated_at, "closed_at": issue.closed_at,
            "author_association": self.author_association(issue.repo, issue.user), "body": issue.body,
        }  # fmt: skip
        if issue.is_pull:
            values["pull_request"] = self._issue_pull_links(issue)
        return self.fill("issue", values)

    def _issue_pull_links(self, issue: Issue) -> dict[str, Any]:
        pull = self.state.pulls[(issue.repo, issue.number)]
        web = f"{self.web(issue.repo)}/pull/{issue.number}"
        return {"url": f"{self.api(issue.repo)}/pulls/{issue.number}", "html_url": web,
                "diff_url": web + ".diff", "patch_url": web + ".patch", "merged_at": pull.merged_at}  # fmt: skip

    def label(self, repo: str, name: str) -> dict[str, Any]:
        ident = abs(hash((repo, name))) % 10**9
        return self.fill("label", {"id": ident, "node_id": node_id("LA", ident), "name": name,
                                   "url": f"{self.api(repo)}/labels/{name}", "color": "ededed",
                                   "default": False, "description": None})  # fmt: skip

    def comment(self, comment: Comment) -> dict[str, Any]:
        api = self.api(comment.repo)
        return self.fill("issue-comment", {
            "id": comment.id, "node_id": node_id("IC", comment.id), "url": f"{api}/issues/comments/{comment.id}",
            "html_url": f"{self.web(comment.repo)}/issues/{comment.issue_number}#issuecomment-{comment.id}",
            "issue_url": f"{api}/issues/{comment.issue_number}", "body": comment.body,
            "user": self.user(comment.user), "created_at": comment.created_at, "updated_at": comment.updated_at,
            "author_association": self.author_association(comment.repo, comment.user),
        })  # fmt: skip

    def pull(self, pull: Pull, schema: str = "pull-request") -> dict[str, Any]:
        api, web = f"{self.api(pull.repo)}/pulls/{pull.number}", f"{self.web(pull.repo)}/pull/{pull.number}"
        issue = f"{self.api(pull.repo)}/issues/{pull.number}"
        statuses = f"{self.api(pull.repo)}/statuses/{pull.head_sha}"
        values = {
            "url": api, "id": pull.id, "node_id": node_id("PR", pull.id), "html_url": web,
            "diff_url": web + ".diff", "patch_url": web + ".patch", "issue_url": issue,
            "commits_url": api + "/commits", "review_comments_url": api + "/comments",
            "review_comment_url": f"{self.api(pull.repo)}/pulls/comments{{/number}}",
            "comments_url": issue + "/comments", "statuses_url": statuses, "number": pull.number,
            "state": pull.state, "locked": False, "title": pull.title, "user": self.user(pull.user),
            "body": pull.body, "labels": [], "milestone": None, "active_lock_reason": None,
            "created_at": pull.created_at, "updated_at": pull.updated_at, "closed_at": pull.closed_at,
            "merged_at": pull.merged_at, "merge_commit_sha": pull.merge_commit_sha, "assignee": None,
            "assignees": [], "requested_reviewers": [], "requested_teams": [], "draft": pull.draft,
            "head": self._branch(pull.head_repo or pull.repo, pull.head_ref, pull.head_sha),
            "base": self._branch(pull.repo, pull.base_ref, pull.base_sha),
            "_links": self._pull_links(api, web, issue, statuses),
            "author_association": self.author_association(pull.repo, pull.user), "auto_merge": None,
        }  # fmt: skip
        if schema == "pull-request":
            values.update(self._pull_details(pull))
        return self.fill(schema, values)

    def _pull_details(self, pull: Pull) -> dict[str, Any]:
        comments = sum(1 for c in self.state.comments.values() if (c.repo, c.issue_number) == (pull.repo, pull.number))
        return {
            "merged": pull.merged, "mergeable": None if pull.merged else True, "rebaseable": None,
            "mergeable_state": "clean", "merged_by": self.user(pull.merged_by), "comments": comments,
            "review_comments": 0, "maintainer_can_modify": False, "commits": len(pull.commits) or 1,
            "additions": sum(f.get("additions", 0) for f in pull.files),
            "deletions": sum(f.get("deletions", 0) for f in pull.files), "changed_files": len(pull.files),
        }  # fmt: skip

    def _pull_links(self, api: str, web: str, issue: str, statuses: str) -> dict[str, Any]:
        links = {"self": api, "html": web, "issue": issue, "comments": issue + "/comments",
                 "review_comments": api + "/comments", "commits": api + "/commits", "statuses": statuses,
                 "review_comment": api.rsplit("/", 1)[0] + "/comments{/number}"}  # fmt: skip
        return {key: {"href": href} for key, href in links.items()}

    def _branch(self, repo: str, ref: str, sha: str) -> dict[str, Any]:
        record = self.state.repos.get(repo)
        owner = record.owner if record else repo.split("/")[0]
        return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": self.user(owner),
                "repo": self.repository(record, "repository") if record else None}  # fmt: skip

    def review(self, review: Review) -> dict[str, Any]:
        pull = f"{self.api(review.repo)}/pulls/{review.pull_number}"
        html = f"{self.web(review.repo)}/pull/{review.pull_number}#pullrequestreview-{review.id}"
        return self.fill("pull-request-review", {
            "id": review.id, "node_id": node_id("PRR", review.id), "user": self.user(review.user),
            "body": review.body, "state": review.state, "html_url": html, "pull_request_url": pull,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull}},
            "submitted_at": review.submitted_at, "commit_id": review.commit_id,
            "author_association": self.author_association(review.repo, review.user),
        })  # fmt: skip

    def issue_event(self, event: IssueEvent) -> dict[str, Any]:
        """A timeline event in the generic shape GitHub gives state changes and force pushes."""
        api = self.api(event.repo)
        return {"id": event.id, "node_id": node_id("E", event.id), "url": f"{api}/issues/events/{event.id}",
                "actor": self.user(event.actor), "event": event.event, "commit_id": event.commit_id,
                "commit_url": f"{api}/commits/{event.commit_id}" if event.commit_id else None,
                "created_at": event.created_at, "performed_via_github_app": None}  # fmt: skip

    def linked_user(self, person: Person) -> dict[str, Any] | None:
        """The GitHub account a commit's author or committer email belongs to, as GitHub links them: the
        account's email, or its ``[ID+]LOGIN@users.noreply.github.com`` address; None when unknown."""
        email = person.email.lower()
        local, _, domain = email.partition("@")
        for user in self.state.users.values():
            noreply = domain == "users.noreply.github.com" and local.split("+")[-1] == user.login.lower()
            if noreply or (user.email or "").lower() == email:
                return self.user(user.login)
        return None

    def person(self, person: Person) -> dict[str, Any]:
        return {"name": person.name, "email": person.email, "date": person.date}

    def commit(self, repo: str, commit: CommitObject) -> dict[str, Any]:
        api = f"{self.api(repo)}/commits/{commit.sha}"
        git = f"{self.api(repo)}/git/commits/{commit.sha}"
        parents = [{"sha": sha, "url": f"{self.api(repo)}/commits/{sha}",
                    "html_url": f"{self.web(repo)}/commit/{sha}"} for sha in commit.parents]  # fmt: skip
        inner = {"url": git, "author": self.person(commit.author), "committer": self.person(commit.committer),
                 "message": commit.message.rstrip("\n"), "comment_count": 0,
                 "tree": {"sha": commit.tree, "url": f"{self.api(repo)}/git/trees/{commit.tree}"}}  # fmt: skip
        return self.fill("commit", {
            "url": api, "sha": commit.sha, "node_id": node_id("C", commit.sha[:12]),
            "html_url": f"{self.web(repo)}/commit/{commit.sha}", "comments_url": api + "/comments",
            "commit": inner, "author": self.linked_user(commit.author),
            "committer": self.linked_user(commit.committer), "parents": parents,
        })  # fmt: skip

    def git_ref(self, repo: str, ref: str, sha: str, kind: str) -> dict[str, Any]:
        plural = "tags" if kind == "tag" else "commits"
        return self.fill("git-ref", {
            "ref": ref, "node_id": node_id("REF", ref), "url": f"{self.api(repo)}/git/{ref}",
            "object": {"sha": sha, "type": kind, "url": f"{self.api(repo)}/git/{plural}/{sha}"},
        })  # fmt: skip

    def git_tag(self, repo: str, tag: TagObject) -> dict[str, Any]:
        plural = "tags" if tag.object_type == "tag" else "commits"
        return self.fill("git-tag", {
            "node_id": node_id("TAG", tag.sha[:12]), "tag": tag.tag, "sha": tag.sha,
            "url": f"{self.api(repo)}/git/tags/{tag.sha}", "message": tag.message,
            "tagger": self.person(tag.tagger),
            "object": {"sha": tag.object_sha, "type": tag.object_type,
                       "url": f"{self.api(repo)}/git/{plural}/{tag.object_sha}"},
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                             "verified_at": None},
        })  # fmt: skip

    def tag(self, repo: str, name: str, commit_sha: str) -> dict[str, Any]:
        return self.fill("tag", {
            "name": name, "node_id": node_id("REF", f"refs/tags/{name}"),
            "commit": {"sha": commit_sha, "url": f"{self.api(repo)}/commits/{commit_sha}"},
            "zipball_url": f"{self.api(repo)}/zipball/{name}", "tarball_url": f"{self.api(repo)}/tarball/{name}",
        })  # fmt: skip

    def release(self, release: Release) -> dict[str, Any]:
        api = f"{self.api(release.repo)}/releases/{release.id}"
        assets = [a for a in self.state.assets.values() if a.release_id == release.id]
        tag = release.tag_name
        return self.fill("release", {
            "url": api, "html_url": f"{self.web(release.repo)}/releases/tag/{tag}", "assets_url": api + "/assets",
            "upload_url": f"{self.base}/uploads/repos/{release.repo}/releases/{release.id}/assets{{?name,label}}",
            "tarball_url": f"{self.api(release.repo)}/tarball/{tag}",
            "zipball_url": f"{self.api(release.repo)}/zipball/{tag}", "id": release.id,
            "node_id": node_id("RE", release.id), "tag_name": tag, "target_commitish": release.target_commitish,
            "name": release.name, "body": release.body, "draft": release.draft, "prerelease": release.prerelease,
            "created_at": release.created_at, "published_at": release.published_at,
            "author": self.user(release.author), "assets": [self.asset(a) for a in sorted(assets, key=lambda a: a.id)],
        })  # fmt: skip

    def asset(self, asset: Asset) -> dict[str, Any]:
        tag = self.state.releases[asset.release_id].tag_name
        return self.fill("release-asset", {
            "url": f"{self.api(asset.repo)}/releases/assets/{asset.id}", "id": asset.id,
            "browser_download_url": f"{self.web(asset.repo)}/releases/download/{tag}/{asset.name}",
            "node_id": node_id("RA", asset.id), "name": asset.name, "label": asset.label, "state": "uploaded",
            "content_type": asset.content_type, "size": len(asset.content), "download_count": 0,
            "created_at": asset.created_at, "updated_at": asset.created_at, "uploader": self.user(asset.uploader),
        })  # fmt: skip

    def deployment(self, deployment: Deployment) -> dict[str, Any]:
        api = f"{self.api(deployment.repo)}/deployments/{deployment.id}"
        return self.fill("deployment", {
            "url": api, "id": deployment.id, "node_id": node_id("DE", deployment.id), "sha": deployment.sha,
            "ref": deployment.ref, "task": deployment.task, "payload": deployment.payload,
            "original_environment": deployment.environment, "environment": deployment.environment,
            "description": deployment.description, "creator": self.user(deployment.creator),
            "created_at": deployment.created_at, "updated_at": deployment.updated_at,
            "statuses_url": api + "/statuses", "repository_url": self.api(deployment.repo),
            "transient_environment": deployment.transient_environment,
            "production_environment": deployment.production_environment,
        })  # fmt: skip

    def deployment_status(self, status: DeploymentStatus) -> dict[str, Any]:
        deployment = f"{self.api(status.repo)}/deployments/{status.deployment_id}"
        return self.fill("deployment-status", {
            "url": f"{deployment}/statuses/{status.id}", "id": status.id, "node_id": node_id("DES", status.id),
            "state": status.state, "creator": self.user(status.creator), "description": status.description,
            "environment": status.environment, "target_url": status.target_url or status.log_url,
            "created_at": status.created_at, "updated_at": status.created_at, "deployment_url": deployment,
            "repository_url": self.api(status.repo), "environment_url": status.environment_url,
            "log_url": status.log_url,
        })  # fmt: skip

    def environment(self, environment: Environment) -> dict[str, Any]:
        rules = self._protection_rules(environment)
        return self.fill("environment", {
            "id": environment.id, "node_id": node_id("EN", environment.id), "name": environment.name,
            "url": f"{self.api(environment.repo)}/environments/{environment.name}",
            "html_url": f"{self.web(environment.repo)}/deployments/activity_log?environments_filter={environment.name}",
            "created_at": environment.created_at, "updated_at": environment.updated_at,
            "protection_rules": rules, "deployment_branch_policy": environment.deployment_branch_policy,
        })  # fmt: skip

    def _protection_rules(self, environment: Environment) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = []
        if environment.wait_timer:
            ident = environment.id * 10 + 1
            rules.append({"id": ident, "node_id": node_id("GA", ident), "type": "wait_timer",
                          "wait_timer": environment.wait_timer})  # fmt: skip
        if environment.reviewers:
            ident = environment.id * 10 + 2
            reviewers = [self._reviewer(item) for item in environment.reviewers]
            rules.append({"id": ident, "node_id": node_id("GA", ident), "type": "required_reviewers",
                          "prevent_self_review": False, "reviewers": reviewers})  # fmt: skip
        return rules

    def _reviewer(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("type") == "Team":
            team = next((t for t in self.state.teams.values() if t.id == item.get("id")), None)
            return {"type": "Team", "reviewer": self.team(team) if team else None}
        user = next((u for u in self.state.users.values() if u.id == item.get("id")), None)
        return {"type": "User", "reviewer": self.user(user.login) if user else None}

    def team(self, team: Team, schema: str = "team-full") -> dict[str, Any]:
        url = f"{self.base}/orgs/{team.org}/teams/{team.slug}"
        org = self.state.users.get(team.org)
        values = {"id": team.id, "node_id": node_id("T", team.id), "url": url, "name": team.name,
                  "slug": team.slug, "html_url": f"{self.base}/orgs/{team.org}/teams/{team.slug}",
                  "members_url": url + "/members{/member}", "repositories_url": url + "/repos",
                  "permission": "pull", "privacy": "closed", "notification_setting": "notifications_enabled",
                  "description": None, "parent": None, "members_count": len(team.members),
                  "organization": self.organization(team.org) if org else None}  # fmt: skip
        return self.fill(schema, values)

    def organization(self, login: str) -> dict[str, Any]:
        org = self.state.users[login]
        url = f"{self.base}/orgs/{login}"
        return self.fill("organization-full", {
            "login": login, "id": org.id, "node_id": node_id("O", org.id), "url": url,
            "repos_url": url + "/repos", "events_url": url + "/events", "hooks_url": url + "/hooks",
            "issues_url": url + "/issues", "members_url": url + "/members{/member}",
            "public_members_url": url + "/public_members{/member}", "avatar_url": f"{self.base}/avatars/{login}",
            "description": None, "html_url": f"{self.base}/{login}", "type": "Organization",
        })  # fmt: skip

    def check_run(self, run: CheckRun) -> dict[str, Any]:
        api = f"{self.api(run.repo)}/check-runs/{run.id}"
        output = {"title": run.output.get("title"), "summary": run.output.get("summary"),
                  "text": run.output.get("text"), "annotations_count": len(run.annotations),
                  "annotations_url": api + "/annotations"}  # fmt: skip
        return self.fill("check-run", {
            "id": run.id, "node_id": node_id("CR", run.id), "head_sha": run.head_sha, "name": run.name,
            "external_id": run.external_id, "url": api, "html_url": f"{self.web(run.repo)}/runs/{run.id}",
            "details_url": run.details_url, "status": run.status, "conclusion": run.conclusion,
            "started_at": run.started_at, "completed_at": run.completed_at, "output": output,
            "check_suite": {"id": run.id}, "app": None, "pull_requests": self._run_pulls(run),
        })  # fmt: skip

    def _run_pulls(self, run: CheckRun) -> list[dict[str, Any]]:
        pulls = [p for p in self.state.pulls.values() if p.repo == run.repo and p.head_sha == run.head_sha]
        return [self._minimal_pull(p) for p in pulls if p.state == "open"]

    def _minimal_pull(self, pull: Pull) -> dict[str, Any]:
        repo = self.state.repos[pull.repo]
        mini = {"id": repo.id, "url": self.api(pull.repo), "name": repo.name}
        return {"id": pull.id, "number": pull.number, "url": f"{self.api(pull.repo)}/pulls/{pull.number}",
                "head": {"ref": pull.head_ref, "sha": pull.head_sha, "repo": mini},
                "base": {"ref": pull.base_ref, "sha": pull.base_sha, "repo": mini}}  # fmt: skip

    def status(self, status: CommitStatus, schema: str = "status") -> dict[str, Any]:
        creator = self.user(status.creator)
        return self.fill(schema, {
            "url": f"{self.api(status.repo)}/statuses/{status.sha}", "id": status.id,
            "node_id": node_id("SC", status.id), "state": status.state, "description": status.description,
            "target_url": status.target_url, "context": status.context, "created_at": status.created_at,
            "updated_at": status.updated_at, "avatar_url": (creator or {}).get("avatar_url"),
            **({"creator": creator} if schema == "status" else {"required": None}),
        })  # fmt: skip
