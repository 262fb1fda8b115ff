"""Escaping of untrusted text for GitHub-flavoured Markdown.

Anything that comes from users or data (model, column and group names, branch names, PR titles, messages)
goes through ``md_text`` or ``md_cell`` before it reaches a comment, summary, release or model card: it
cannot open HTML, break a table, mention people, or create links or images.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~^$])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|javascript|data|vbscript|file|mailto)(:)")
_WWW = re.compile(r"(?i)\bwww\.")
_REFERENCE = re.compile(r"(?i)(#|\bGH-)(?=[0-9])")
# Bidirectional overrides and other invisible format characters could make text read differently than it is.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\u0085]")


def md_text(value: object) -> str:
    """Inline text safe for Markdown: HTML-escaped, Markdown punctuation escaped, no mentions or autolinks.

    Inline means one line: line breaks become spaces, so the text cannot start a heading, list, quote or
    code block of its own. Invisible control and bidi-override characters are dropped.
    """
    text = _INVISIBLE.sub("", _LINE_BREAK.sub(" ", str(value)))
    text = "".join(_HTML.get(ch, ch) for ch in text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MENTION.sub("@\u200b", text)
    text = _REFERENCE.sub(lambda m: m.group(1) + "\u200b", text)  # before the entities below add a '#'
    text = _URL_SCHEME.sub(lambda m: m.group(1) + "&#58;", text)
    return _WWW.sub(lambda m: m.group(0)[:-1] + "&#46;", text)


def md_cell(value: object) -> str:
    """Like ``md_text``, on one line: newlines become spaces so a table row cannot break."""
    return md_text(value)


def md_list(items: Iterable[object]) -> str:
    """A bullet list, one escaped line (``md_cell``) per item."""
    return "\n".join(f"- {md_cell(item)}" for item in items)


def md_code(value: object, *, table: bool = True) -> str:
    """Inline code span for untrusted text: backticks, newlines and table pipes made harmless.

    Code spans are never rendered as HTML, links or mentions, so only what could end the span or the
    table row needs care. ``table=False`` for text outside tables, where ``\\|`` would show its backslash.
    """
    text = _INVISIBLE.sub("", _LINE_BREAK.sub(" ", str(value))).replace("`", "'")
    if table:
        text = text.replace("|", "\\|")
    return f"`{text}`" if text.strip() else "` `"
