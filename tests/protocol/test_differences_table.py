"""The list of differences between the kit's hub and PoCo 6.1.0 is one data structure
(iexec_kit.protocol.differences); the README's table is generated from it, and
tests/poco/test_differential.py checks the list against both hubs."""

from __future__ import annotations

from pathlib import Path

from iexec_kit.protocol import differences

README = Path(__file__).resolve().parents[2] / "README.md"
DOC = Path(__file__).resolve().parents[2] / "docs" / "poco-differences.md"


def test_the_readme_holds_the_generated_table():
    text = README.read_text()
    table = differences.markdown_table()
    assert table in text, (
        "README.md's table of differences is not the list in iexec_kit/protocol/differences.py: "
        "paste the output of `python -m iexec_kit.protocol.differences` in its place"
    )
    assert text.count(differences.TABLE_START) == 1


def test_every_difference_says_where_it_is_checked():
    keys = [d.key for d in differences.DIFFERENCES]
    assert len(keys) == len(set(keys)), "two differences share a key"
    for d in differences.DIFFERENCES:
        assert d.seen_in or d.checked_by, (
            f"{d.key}: neither seen by the differential test nor checked"
        )
        assert all([d.what, d.kit, d.poco, d.why, d.since]), d.key
        assert "|" not in d.what + d.kit + d.poco + d.why + d.since + d.checked_by, d.key


def test_a_path_is_explained_by_its_entry_only():
    assert differences.explaining("attack:receiveApproval-direct.outcome").key == (
        "receiveApproval-caller"
    )
    assert differences.explaining("task.results_timestamp") is None
    assert differences.explaining("claim.events") is None


def test_the_doc_points_at_the_list_and_repeats_none_of_it():
    text = DOC.read_text()
    assert "iexec_kit/protocol/differences.py" in text
    for d in differences.DIFFERENCES:
        # a cell copied over (a cell of a few words, like "refused", is any prose's too)
        for cell in (d.kit, d.poco, d.why):
            assert len(cell) < 25 or cell not in text, f"docs/poco-differences.md repeats {d.key}"
