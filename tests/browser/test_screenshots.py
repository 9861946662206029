"""A real conversation with the real model, photographed on a desktop and a phone.

On a desktop the picture is the chat with the answer's article open beside it, the cited sentence
highlighted; on a phone it is the answer card itself (verdict, the short answer, the quote with it
marked, the source line with outlet and date, Copy and the vote) with the question box below.
The phone's article sheet is checked too (the cited sentence in view), but not photographed.

The pictures go to $QA_SCREENSHOT_DIR when it is set (`QA_SCREENSHOT_DIR=docs` refreshes the ones
in the README), else to a temporary folder; either way they are checked to exist and be small.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from qa.core.settings import Settings
from qa.engine.engine import Engine
from tests.browser.conftest import DESKTOP, MOBILE, Live, new_page
from tests.conftest import SEEDS, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

QUESTION = "How much did the harbour bridge repairs cost?"
MAX_BYTES = 300_000
NEWS = Path(__file__).resolve().parents[1] / "data" / "news"


@pytest.fixture(scope="module")
def real_live(tmp_path_factory: pytest.TempPathFactory, real_embedder: object) -> Iterator[Live]:
    """The seed article and three news pages (taken in as `qa add page.html` would), so the
    source card has a headline, an outlet, a date and a link."""
    from qa.corpus.seeds import article_from_file, write_seed

    work = tmp_path_factory.mktemp("real-web")
    seeds = work / "seeds"
    seeds.mkdir()
    for seed in SEEDS.iterdir():
        (seeds / seed.name).write_bytes(seed.read_bytes())
    for page in sorted(NEWS.glob("*.html")):
        write_seed(
            seeds, article_from_file(page.name, page.read_bytes(), doc_id=None, max_bytes=1 << 20)
        )
    settings = Settings(
        seeds_dir=seeds, index_dir=work / "index", feedback_path=work / "feedback.jsonl"
    )
    engine, _ = Engine.open(settings, embedder=real_embedder)  # type: ignore[arg-type]
    with serve_app(settings, engine) as url:
        yield Live(url, settings)


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("QA_SCREENSHOT_DIR")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def converse(page: Page, live: Live, *, phone: bool) -> None:
    page.goto(live.url + "/")
    question = page.get_by_label("Your question")
    question.fill(QUESTION)
    with page.expect_response("**/ask") as response:
        question.press("Enter")
    body = response.value.json()
    bubble = page.locator(".bubble.answer").last
    expect(bubble).to_be_visible()
    # The picture the README promises: a marked short answer and a source line with the
    # outlet and the date.
    assert body["answer"] is not None and body["answer_span"], body
    expect(bubble.locator(".short-answer-lead")).to_have_text(body["answer_span"]["text"])
    expect(bubble.locator(".answer-text mark")).to_have_text(body["answer_span"]["text"])
    lead = body["citations"][0]
    assert lead["source"] and lead["published"], lead
    expect(bubble.locator(".source-line .cite-byline")).to_contain_text(lead["source"])
    first = bubble.locator(".cite").first
    first.click()
    mark = page.locator("#panel mark")
    expect(mark).to_be_in_viewport()
    expect(mark).to_have_text(body["citations"][0]["text"])
    if phone:
        page.get_by_role("button", name="Back to answer").click()
        expect(page.locator("#panel")).to_be_hidden()
        expect(bubble.get_by_role("button", name="Not helpful")).to_be_in_viewport(ratio=1)
    page.evaluate("document.activeElement.blur()")  # no focus ring on the picture's subject
    page.mouse.move(0, 0)  # nor a hover highlight


@pytest.mark.parametrize(
    ("name", "viewport"), [("desktop", DESKTOP), ("mobile", MOBILE)], ids=["desktop", "mobile"]
)
def test_screenshot_of_a_real_conversation(
    browser: Browser, real_live: Live, shots_dir: Path, name: str, viewport: ViewportSize
) -> None:
    context, page, watch = new_page(browser, viewport)
    try:
        converse(page, real_live, phone=viewport == MOBILE)
        path = shots_dir / f"screenshot-{name}.png"
        page.screenshot(path=str(path))
        assert 0 < path.stat().st_size < MAX_BYTES, path.stat().st_size
        assert not watch.errors and not watch.csp
    finally:
        context.close()
