"""Storage: hostile roster files never crash the importer; each rejection is a file:line message."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.roster import SPECS, import_roster
from tests.storage.roster_files import VALID, write_roster

# `file.csv:LINE: column: what`, or `file.csv:LINE failed, so N rows that refer to X were not
# checked`.
PROBLEM = re.compile(
    r"^[a-z_]+\.csv:\d+(?:: (?:[a-z_]+: )?\S.*"
    r"| failed, so \d+ rows? that refers? to .+ (?:was|were) not checked)$"
)
FILES = sorted(VALID)
cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "mon",
            "25:00",
            "08:00",
            "2027-02-30",
            "America/Anchorage",
            "Mars/Base",
            "AK",
            "ZZ",
            "yes",
            "maybe",
            "slp",
            "-1",
            "1e9",
            "P1",
            "S1",
            "SCH1",
            "anc",
            "\x00",
            "é",
            '"',
            "'",
            ",",
            "\n",
        ]
    ),
)


def mutate(original: str, rows: list[list[str]], keep_header: bool) -> str:
    header = original.splitlines()[0]
    body = "\n".join(",".join(r) for r in rows)
    return (header + "\n" + body + "\n") if keep_header else body


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    target=st.sampled_from(FILES),
    rows=st.lists(st.lists(cell, min_size=0, max_size=10), max_size=6),
    keep_header=st.booleans(),
)
def test_any_csv_content_gives_a_report_not_an_exception(
    tmp_path_factory,
    target: str,
    rows: list[list[str]],
    keep_header: bool,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    write_roster(
        folder, **{target.replace(".csv", "_csv"): mutate(VALID[target], rows, keep_header)}
    )
    report = import_roster(folder, None, dry_run=True)
    for problem in report.problems:
        assert PROBLEM.match(problem), problem


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(target=st.sampled_from(FILES), raw=st.binary(max_size=300))
def test_any_bytes_give_a_report_not_an_exception(
    tmp_path_factory, target: str, raw: bytes
) -> None:  # type: ignore[no-untyped-def]
    folder: Path = tmp_path_factory.mktemp("bytes")
    write_roster(folder)
    (folder / target).write_bytes(raw)
    report = import_roster(folder, None, dry_run=True)
    assert report.ok or report.problems
    for problem in report.problems:
        assert PROBLEM.match(problem), problem


def test_every_spec_has_its_file_in_the_valid_fixture() -> None:
    assert {s.filename for s in SPECS} == set(VALID)
