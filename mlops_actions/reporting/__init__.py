"""Rendering for people: Markdown, escaping, tables, problem reports, model cards."""
