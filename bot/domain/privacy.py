"""Domain: how a student is named in anything that leaves the database.

Messages, forms and Home tabs carry a student's initials and id; the name appears only when
the SHOW_STUDENT_NAMES setting allows it (FERPA: only what the work needs reaches Slack).
"""

from __future__ import annotations


def initials(first_name: str, last_name: str) -> str:
    parts = [p for p in (first_name.strip(), last_name.strip()) if p]
    return "".join(f"{p[0].upper()}." for p in parts) or "?"


def student_label(student_id: str, first_name: str, last_name: str, show_names: bool) -> str:
    """Initials and id, the name only when allowed: ``T.E. (S1)``."""
    who = f"{first_name} {last_name}".strip() if show_names else initials(first_name, last_name)
    return f"{who} ({student_id})"
