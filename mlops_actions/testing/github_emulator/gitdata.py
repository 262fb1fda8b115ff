"""The repository's git data (refs, annotated tags, commits, files): in memory, or a real local git repo.

``MemoryGit`` hashes objects the way git does, so a tag created in memory has the SHA git would give it.
``RepoGit`` uses git plumbing (``git mktag``, ``git update-ref``, ``git rev-parse``, ``git for-each-ref``,
``git cat-file``) in ``--repo-dir``, so a tag created through the API is a real tag there.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Person:
    """An author, committer or tagger: name, email, ISO 8601 date."""

    name: str
    email: str
    date: str


@dataclass(frozen=True)
class TagObject:
    """An annotated tag object."""

    sha: str
    tag: str
    message: str
    object_sha: str
    object_type: str
    tagger: Person


@dataclass(frozen=True)
class CommitObject:
    """A commit: enough of it for ``commits/{sha}`` and ``pulls/{n}/commits``."""

    sha: str
    message: str
    author: Person
    committer: Person
    tree: str
    parents: tuple[str, ...] = ()


class RefExists(Exception):
    """The ref already exists."""


class UnknownObject(Exception):
    """The object does not exist in the repository."""


class GitData(Protocol):
    """What the emulator needs of a repository's git data."""

    def resolve(self, ref: str) -> str | None: ...
    def refs(self, prefix: str) -> list[tuple[str, str]]: ...
    def object_type(self, sha: str) -> str | None: ...
    def create_ref(self, ref: str, sha: str) -> None: ...
    def update_ref(self, ref: str, sha: str) -> None: ...
    def create_tag(self, tag: str, message: str, object_sha: str, tagger: Person) -> str: ...
    def tag(self, sha: str) -> TagObject | None: ...
    def commit(self, rev: str) -> CommitObject | None: ...
    def add_commit(self, commit: CommitObject) -> None: ...
    def read_file(self, path: str) -> bytes | None: ...
    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...
    def changed_files(self, base: str, head: str) -> list[dict[str, Any]]: ...
    def dump(self) -> dict[str, Any]: ...


def tag_text(tag: str, message: str, object_sha: str, object_type: str, tagger: Person) -> str:
    """The raw text of an annotated tag object, as ``git mktag`` reads it."""
    stamp = _epoch(tagger.date)
    head = f"object {object_sha}\ntype {object_type}\ntag {tag}\ntagger {tagger.name} <{tagger.email}> {stamp} +0000\n"
    return head + "\n" + (message if message.endswith("\n") or not message else message + "\n")


def _epoch(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def _iso(epoch: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def git_hash(kind: str, text: str) -> str:
    """The SHA-1 git gives an object of this kind and content."""
    data = text.encode("utf-8")
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


@dataclass
class MemoryGit:
    """Git data held in memory (and in the --state file)."""

    refs_: dict[str, str] = field(default_factory=dict)
    tags_: dict[str, dict[str, Any]] = field(default_factory=dict)
    commits_: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def resolve(self, ref: str) -> str | None:
        if ref in self.refs_:
            return self.refs_[ref]
        return ref if self.object_type(ref) else None

    def refs(self, prefix: str) -> list[tuple[str, str]]:
        return sorted((ref, sha) for ref, sha in self.refs_.items() if ref.startswith(prefix))

    def object_type(self, sha: str) -> str | None:
        return "tag" if sha in self.tags_ else "commit" if sha in self.commits_ else None

    def create_ref(self, ref: str, sha: str) -> None:
        if ref in self.refs_:
            raise RefExists(ref)
        self.update_ref(ref, sha)

    def update_ref(self, ref: str, sha: str) -> None:
        if self.object_type(sha) is None:
            raise UnknownObject(sha)
        self.refs_[ref] = sha

    def create_tag(self, tag: str, message: str, object_sha: str, tagger: Person) -> str:
        kind = self.object_type(object_sha)
        if kind is None:
            raise UnknownObject(object_sha)
        sha = git_hash("tag", tag_text(tag, message, object_sha, kind, tagger))
        self.tags_[sha] = {"tag": tag, "message": message, "object_sha": object_sha, "object_type": kind,
                           "tagger": vars(tagger)}  # fmt: skip
        return sha

    def tag(self, sha: str) -> TagObject | None:
        data = self.tags_.get(sha)
        return None if data is None else TagObject(sha=sha, **{**data, "tagger": Person(**data["tagger"])})

    def commit(self, rev: str) -> CommitObject | None:
        sha = self.resolve(rev) if rev.startswith("refs/") else self.refs_.get(f"refs/heads/{rev}", rev)
        data = None if sha is None else self.commits_.get(sha)
        if sha is None or data is None:
            return None
        people = {key: Person(**data[key]) for key in ("author", "committer")}
        return CommitObject(sha=sha, message=data["message"], tree=data["tree"],
                            parents=tuple(data["parents"]), **people)  # fmt: skip

    def add_commit(self, commit: CommitObject) -> None:
        self.commits_[commit.sha] = {
            "message": commit.message, "tree": commit.tree, "parents": list(commit.parents),
            "author": vars(commit.author), "committer": vars(commit.committer),
        }  # fmt: skip

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        todo, seen = [descendant], set()
        while todo:
            sha = todo.pop()
            if sha == ancestor:
                return True
            if sha not in seen and sha in self.commits_:
                seen.add(sha)
                todo.extend(self.commits_[sha]["parents"])
        return False

    def read_file(self, path: str) -> bytes | None:
        import base64

        return base64.b64decode(self.files[path]) if path in self.files else None

    def changed_files(self, base: str, head: str) -> list[dict[str, Any]]:
        """Seeded commits carry no trees: a pull request's files are whatever was seeded (none)."""
        return []

    def dump(self) -> dict[str, Any]:
        return {"refs": self.refs_, "tags": self.tags_, "commits": self.commits_, "files": self.files}

    @classmethod
    def restore(cls, data: dict[str, Any]) -> MemoryGit:
        """The git data saved by ``dump``."""
        return cls(data.get("refs", {}), data.get("tags", {}), data.get("commits", {}), data.get("files", {}))


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _names_an_object(rev: str) -> bool:
    """Whether ``rev`` is a full object id (optionally peeled, ``<id>^{commit}``): what it resolves to and
    reads as never changes, unlike a ref or a short id."""
    return _OBJECT_ID.fullmatch(rev.removesuffix("^{commit}")) is not None


@dataclass
class RepoGit:
    """Git data of a real local repository, through git plumbing. What a full object id names is immutable,
    so it is read from git once (refs, which move, are read every time)."""

    root: Path
    _known: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)

    def _once(self, kind: str, rev: str, read: Callable[[], Any]) -> Any:
        """``read()``, remembered for a full object id when it found something (an object not there yet may
        be written later)."""
        if not _names_an_object(rev):
            return read()
        if (kind, rev) not in self._known:
            found = read()
            if found is None:
                return None
            self._known[(kind, rev)] = found
        return self._known[(kind, rev)]

    def _git(self, *args: str, stdin: str | None = None, check: bool = True) -> str | None:
        done = subprocess.run(["git", *args], cwd=self.root, input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            if check:
                raise UnknownObject(done.stderr.strip())
            return None
        return done.stdout

    def resolve(self, ref: str) -> str | None:
        return self._once("resolve", ref, lambda: self._resolve(ref))

    def _resolve(self, ref: str) -> str | None:
        out = self._git("rev-parse", "--verify", "--quiet", ref, check=False)
        return out.strip() if out else None

    def refs(self, prefix: str) -> list[tuple[str, str]]:
        out = self._git("for-each-ref", "--format=%(refname) %(objectname)", check=False) or ""
        pairs = [tuple(line.split(" ", 1)) for line in out.splitlines() if line]
        return sorted((ref, sha) for ref, sha in pairs if ref.startswith(prefix))

    def object_type(self, sha: str) -> str | None:
        return self._once("type", sha, lambda: self._object_type(sha))

    def _object_type(self, sha: str) -> str | None:
        out = self._git("cat-file", "-t", sha, check=False)
        return out.strip() if out else None

    def create_ref(self, ref: str, sha: str) -> None:
        if self.resolve(ref) is not None:
            raise RefExists(ref)
        self.update_ref(ref, sha)

    def update_ref(self, ref: str, sha: str) -> None:
        if self.object_type(sha) is None:
            raise UnknownObject(sha)
        self._git("update-ref", ref, sha)

    def create_tag(self, tag: str, message: str, object_sha: str, tagger: Person) -> str:
        kind = self.object_type(object_sha)
        if kind is None:
            raise UnknownObject(object_sha)
        out = self._git("mktag", stdin=tag_text(tag, message, object_sha, kind, tagger))
        return (out or "").strip()

    def tag(self, sha: str) -> TagObject | None:
        return self._once("tag", sha, lambda: self._tag(sha))

    def _tag(self, sha: str) -> TagObject | None:
        if self.object_type(sha) != "tag":
            return None
        head, _, message = (self._git("cat-file", "tag", sha) or "").partition("\n\n")
        fields = dict(line.split(" ", 1) for line in head.splitlines())
        return TagObject(sha, fields["tag"], message, fields["object"], fields["type"], _person(fields["tagger"]))

    def commit(self, rev: str) -> CommitObject | None:
        return self._once("commit", rev, lambda: self._commit(rev))

    def _commit(self, rev: str) -> CommitObject | None:
        sha = self.resolve(rev + "^{commit}")
        if sha is None:
            return None
        head, _, message = (self._git("cat-file", "commit", sha) or "").partition("\n\n")
        lines = [line.split(" ", 1) for line in head.splitlines() if " " in line]
        fields = dict(lines)
        parents = tuple(value for key, value in lines if key == "parent")
        return CommitObject(sha, message, _person(fields["author"]), _person(fields["committer"]),
                            fields["tree"], parents)  # fmt: skip

    def add_commit(self, commit: CommitObject) -> None:
        """Commits of a real repository come from git itself; seeded ones are ignored."""

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._git("merge-base", "--is-ancestor", ancestor, descendant, check=False) is not None

    def read_file(self, path: str) -> bytes | None:
        done = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=self.root, capture_output=True)
        return done.stdout if done.returncode == 0 else None

    def changed_files(self, base: str, head: str) -> list[dict[str, Any]]:
        """The files ``head`` changes since its merge base with ``base``, as GitHub lists a PR's files."""
        span = f"{base}...{head}"
        names = self._git("-c", "core.quotePath=false", "diff", "--no-renames", "--name-status", span, check=False)
        counts = self._git("-c", "core.quotePath=false", "diff", "--no-renames", "--numstat", span, check=False)
        if names is None or counts is None:
            return []
        numbers: dict[str, tuple[int, int]] = {}
        for line in counts.splitlines():
            added, deleted, name = line.split("\t", 2)
            numbers[name] = (int(added) if added.isdigit() else 0, int(deleted) if deleted.isdigit() else 0)
        return [_file_entry(line, numbers) for line in names.splitlines() if "\t" in line]

    def dump(self) -> dict[str, Any]:
        return {"repo_dir": str(self.root)}

    def head_branch(self) -> str | None:
        """The branch HEAD is on (the repository's default branch), if any."""
        out = self._git("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
        return out.strip() if out else None


_FILE_STATUS = {"A": "added", "D": "removed", "M": "modified", "T": "changed"}


def _file_entry(line: str, numbers: dict[str, tuple[int, int]]) -> dict[str, Any]:
    code, name = line.split("\t", 1)
    additions, deletions = numbers.get(name, (0, 0))
    return {"filename": name, "status": _FILE_STATUS.get(code[:1], "modified"), "additions": additions,
            "deletions": deletions}


def _person(text: str) -> Person:
    """``Name <email> 1700000000 +0000`` -> Person."""
    name, _, rest = text.partition(" <")
    email, _, stamp = rest.partition("> ")
    return Person(name, email, _iso(int(stamp.split(" ")[0])))
