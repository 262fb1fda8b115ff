"""Files at a ref, and a commit that changes one file on a branch (what ``PUT contents/{path}`` does).

``MemoryGit``: a commit made here keeps a snapshot of its files in its own entry of ``commits_`` (so the
``--state`` file keeps it); seeded commits have no snapshot and show the files seeded with ``add_file``.
``RepoGit``: real objects in ``--repo-dir`` through git plumbing -- ``hash-object -w``, ``read-tree`` and
``update-index --cacheinfo`` into a temporary index, ``write-tree``, ``commit-tree``, then ``update-ref``
with the old value, so a concurrent move of the branch fails instead of being overwritten.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass

from .gitdata import CommitObject, GitData, MemoryGit, Person, RepoGit, git_hash


class BranchMissing(Exception):
    """The branch to commit on does not exist."""


@dataclass(frozen=True)
class FileCommit:
    """The commit that wrote a file, and the file's blob."""

    commit: CommitObject
    blob_sha: str
    size: int


def blob_sha(data: bytes) -> str:
    """The SHA-1 git gives a blob with these bytes (what ``contents`` calls the file's ``sha``)."""
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def read_file_at(git: GitData, path: str, ref: str) -> bytes | None:
    """The bytes of ``path`` at ``ref`` (a branch, tag or commit SHA); None when the file is absent there.

    A ref the emulator does not know reads the default files (``HEAD`` / seeded), as before refs were
    honoured: seeded payloads name commits that were never pushed to it.
    """
    if isinstance(git, RepoGit) and git.resolve(f"{ref}^{{commit}}") is not None:
        return _repo_read(git, path, ref)
    if isinstance(git, MemoryGit) and _memory_sha(git, ref) is not None:
        return _memory_read(git, path, ref)
    return git.read_file(path)


def commit_file(git: GitData, branch: str, path: str, data: bytes, message: str, author: Person) -> FileCommit:
    """A new commit on ``branch`` (which must exist) whose only change is ``path`` holding ``data``."""
    if isinstance(git, RepoGit):
        return _repo_commit(git, branch, path, data, message, author)
    if isinstance(git, MemoryGit):
        return _memory_commit(git, branch, path, data, message, author)
    raise TypeError(f"cannot write files into {type(git).__name__}")


# -- in memory ------------------------------------------------------------------------------------------

def _memory_sha(git: MemoryGit, ref: str) -> str | None:
    for name in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
        sha = git.resolve(name)
        while sha is not None and (tag := git.tag(sha)) is not None:
            sha = tag.object_sha
        if sha is not None:
            return sha
    return None


def _memory_files(git: MemoryGit, sha: str) -> dict[str, str]:
    snapshot = git.commits_.get(sha, {}).get("files")
    return dict(snapshot) if isinstance(snapshot, dict) else dict(git.files)


def _memory_read(git: MemoryGit, path: str, ref: str) -> bytes | None:
    sha = _memory_sha(git, ref)
    if sha is None:
        return None
    encoded = _memory_files(git, sha).get(path)
    return None if encoded is None else base64.b64decode(encoded)


def _memory_commit(git: MemoryGit, branch: str, path: str, data: bytes, message: str, author: Person) -> FileCommit:
    parent = git.refs_.get(f"refs/heads/{branch}")
    if parent is None:
        raise BranchMissing(branch)
    files = _memory_files(git, parent) | {path: base64.b64encode(data).decode("ascii")}
    tree = git_hash("tree", json.dumps(files, sort_keys=True))  # stands in for the tree: no tree objects here
    text = f"tree {tree}\nparent {parent}\nauthor {_signature(author)}\ncommitter {_signature(author)}\n\n{message}"
    commit = CommitObject(git_hash("commit", text), message, author, author, tree, (parent,))
    git.add_commit(commit)
    git.commits_[commit.sha]["files"] = files
    git.refs_[f"refs/heads/{branch}"] = commit.sha
    return FileCommit(commit, blob_sha(data), len(data))


def _signature(person: Person) -> str:
    from datetime import datetime

    stamp = int(datetime.fromisoformat(person.date.replace("Z", "+00:00")).timestamp())
    return f"{person.name} <{person.email}> {stamp} +0000"


# -- a real repository ----------------------------------------------------------------------------------

def _run(git: RepoGit, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=git.root, input=stdin, capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout.decode("utf-8").strip()


def _repo_read(git: RepoGit, path: str, ref: str) -> bytes | None:
    sha = git.resolve(f"{ref}^{{commit}}")
    if sha is None:
        return None
    done = subprocess.run(["git", "cat-file", "blob", f"{sha}:{path}"], cwd=git.root, capture_output=True,
                          check=False)
    return done.stdout if done.returncode == 0 else None


def _repo_commit(git: RepoGit, branch: str, path: str, data: bytes, message: str, author: Person) -> FileCommit:
    ref = f"refs/heads/{branch}"
    parent = git.resolve(ref)
    if parent is None:
        raise BranchMissing(branch)
    blob = _run(git, "hash-object", "-w", "--stdin", stdin=data)
    with tempfile.TemporaryDirectory(prefix="emulator-index-") as scratch:
        env = {**os.environ, "GIT_INDEX_FILE": os.path.join(scratch, "index")}
        _run(git, "read-tree", parent, env=env)
        _run(git, "update-index", "--add", "--cacheinfo", f"{_mode(git, parent, path)},{blob},{path}", env=env)
        tree = _run(git, "write-tree", env=env)
    sha = _run(git, "commit-tree", tree, "-p", parent, "-F", "-", stdin=message.encode("utf-8"),
               env={**os.environ, **_identity(author)})
    _run(git, "update-ref", ref, sha, parent)
    commit = git.commit(sha)
    assert commit is not None
    return FileCommit(commit, blob, len(data))


def _mode(git: RepoGit, parent: str, path: str) -> str:
    """The file's mode at ``parent`` (an executable stays executable), 100644 for a new file."""
    listed = _run(git, "ls-tree", parent, "--", path)
    mode = listed.split(" ", 1)[0] if listed else ""
    return mode if mode in ("100644", "100755") else "100644"


def _identity(person: Person) -> dict[str, str]:
    return {"GIT_AUTHOR_NAME": person.name, "GIT_AUTHOR_EMAIL": person.email, "GIT_AUTHOR_DATE": person.date,
            "GIT_COMMITTER_NAME": person.name, "GIT_COMMITTER_EMAIL": person.email,
            "GIT_COMMITTER_DATE": person.date}
