"""One file's diff as rows: line numbers, side-by-side pairs, and Pygments tokens per line."""

from __future__ import annotations

from pygments.token import Token

from app.ui.diff_rows import Row, parse, side_by_side

DIFF = (
    "diff --git a/m.py b/m.py\n"
    "--- a/m.py\n"
    "+++ b/m.py\n"
    "@@ -3,4 +3,5 @@ def f():\n"
    ' s = """start\n'
    '-old"""\n'
    "+new\n"
    '+end"""\n'
    " x = 1\n"
    "\n"
    "+y = 2\n"
)


def test_rows_carry_the_line_numbers_of_both_sides() -> None:
    rows = parse(DIFF, "m.py")
    code = [(r.kind, r.old, r.new, r.text) for r in rows if r.kind not in ("header", "hunk")]
    assert code == [
        ("context", 3, 3, 's = """start'),
        ("removed", 4, None, 'old"""'),
        ("added", None, 4, "new"),
        ("added", None, 5, 'end"""'),
        ("context", 5, 6, "x = 1"),
        ("context", 6, 7, ""),
        ("added", None, 8, "y = 2"),
    ]
    assert [r.kind for r in rows[:4]] == ["header", "header", "header", "hunk"]


def test_a_string_over_several_lines_is_lexed_as_one_token_on_each_side() -> None:
    rows = {r.text: r for r in parse(DIFF, "m.py")}
    assert all(kind in Token.Literal.String for kind, _ in rows["new"].tokens)
    assert all(kind in Token.Literal.String for kind, _ in rows['old"""'].tokens)
    assert any(kind in Token.Name for kind, _ in rows["x = 1"].tokens)


def test_an_unknown_file_type_is_plain_text() -> None:
    rows = parse("@@ -1 +1 @@\n-a\n+b\n", "notes.unknown-ext")
    assert [r.tokens for r in rows[1:]] == [((Token.Text, "a"),), ((Token.Text, "b"),)]


def test_removed_lines_stand_beside_the_added_lines_that_replaced_them() -> None:
    rows = [r for r in parse(DIFF, "m.py") if r.kind != "header"]
    pairs = side_by_side(rows)

    def text(row: Row | None) -> str | None:
        return row.text if row is not None else None

    assert [(text(p.left), text(p.right)) for p in pairs[1:]] == [
        ('s = """start', 's = """start'),
        ('old"""', "new"),
        (None, 'end"""'),
        ("x = 1", "x = 1"),
        ("", ""),
        (None, "y = 2"),
    ]


def test_a_long_diff_is_cut_with_a_note() -> None:
    diff = "@@ -1,0 +1,10 @@\n" + "".join(f"+{n}\n" for n in range(10))
    rows = parse(diff, "a.txt", max_rows=5)
    assert len(rows) == 6 and rows[-1].kind == "note" and "6 more lines" in rows[-1].text
