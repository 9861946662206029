"""The README and docs/ stay true: settings, commands, links and headline figures are where they
say they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command

from qa.cli import app
from qa.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README_PATH = ROOT / "README.md"
README = README_PATH.read_text(encoding="utf-8")
PAGES = [README_PATH, *sorted(DOCS.glob("*.md"))]

# [text](target) and ![alt](target); the target ends at whitespace or ")" (a title may follow).
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# A number as written: 0.837, 6,078, 241, 10.8; not part of a longer number.
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    """The text under `## heading`, up to the next heading of level 2 or above."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^#{{1,2}} |\Z)", text, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def test_every_setting_is_documented() -> None:
    page = _read(DOCS / "configuration.md")
    names = [f"QA_{name.upper()}" for name in Settings.model_fields]
    missing = [name for name in names if f"`{name}`" not in page]
    assert not missing, f"docs/configuration.md lacks {missing}"


def test_every_command_is_documented() -> None:
    page = _read(DOCS / "cli.md")
    commands = get_command(app).commands  # type: ignore[attr-defined]
    missing = [name for name in commands if f"qa {name}" not in page]
    assert not missing, f"docs/cli.md lacks {missing}"


def test_quick_start_is_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", _section(README, "Quick start"), re.S)
    assert blocks, "the quick start has no sh block"
    commands = [line.split("#")[0].strip() for line in blocks[0].splitlines()]
    assert [c for c in commands if c] == ["make serve", "make test"]


def test_readme_is_short() -> None:
    lines = len(README.splitlines())
    assert lines < 200, f"README.md is {lines} lines; move reference material to docs/"


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", _read(page), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(_read(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
            continue  # http(s), mailto, ...
        path, _, anchor = target.partition("#")
        linked = page.parent / path if path else page
        heading_missing = anchor and linked.suffix == ".md" and anchor not in _anchors(linked)
        if not linked.exists() or heading_missing:
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files or headings: {broken}"


def _headline_figures() -> list[tuple[str, str, str]]:
    """(what, figure, page) for each row of the README's headline figures table."""
    rows = []
    for line in _section(README, "Headline figures").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("what", "---"):
            continue
        links = LINK.findall(cells[2])
        assert len(links) == 1, f"row {cells[0]!r} names no page"
        rows.append((cells[0], cells[1], links[0]))
    return rows


def test_headline_figures_table_is_there() -> None:
    assert len(_headline_figures()) >= 5


@pytest.mark.parametrize(("what", "figure", "page"), _headline_figures(), ids=lambda v: v)
def test_headline_figure_is_on_its_page(what: str, figure: str, page: str) -> None:
    text = _read(ROOT / page)
    numbers = NUMBER.findall(figure)
    assert numbers, f"{what!r}: no number in {figure!r}"
    missing = [
        n for n in numbers if not re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d]|[.,]\d)", text)
    ]
    assert not missing, f"{what!r}: {missing} not in {page}"
