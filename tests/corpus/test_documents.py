from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.corpus.documents import (
    ArticleError,
    Meta,
    check_doc_id,
    decode_article,
    front_matter,
    iso_date,
    make_document,
    read_article,
    read_corpus,
    split_front_matter,
    split_sentences,
)
from qa.corpus.titles import TITLE_CHARS, shorten, title_from
from tests.conftest import SEEDS


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def assert_exact(text: str) -> None:
    previous_end = 0
    for span in split_sentences(text):
        piece = text[span.start : span.end]
        assert piece == piece.strip() and piece
        assert span.start >= previous_end
        previous_end = span.end


def test_abbreviations_do_not_split() -> None:
    text = "Dr. Smith met Mr. Jones in the U.S. on Friday. They talked."
    assert sentences(text) == ["Dr. Smith met Mr. Jones in the U.S. on Friday.", "They talked."]


def test_decimal_does_not_split() -> None:
    text = "The two agreed to a track 1.5 dialogue of think tanks. It starts soon."
    assert sentences(text)[0] == "The two agreed to a track 1.5 dialogue of think tanks."


def test_curly_quotes_apostrophes_and_dashes_stay_verbatim() -> None:
    text = "The pact is “a key pillar” of ties — officials said. India’s view is clear."
    assert sentences(text) == [
        "The pact is “a key pillar” of ties — officials said.",
        "India’s view is clear.",
    ]


def test_paragraph_without_full_stop_ends_at_line_break() -> None:
    text = "Key sectors — chips, minerals and energy\nOn chips, they signed a deal."
    assert sentences(text) == [
        "Key sectors — chips, minerals and energy",
        "On chips, they signed a deal.",
    ]


def test_crlf_line_ends_keep_exact_offsets() -> None:
    text = "First line here.\r\nSecond line here.\r\n"
    assert sentences(text) == ["First line here.", "Second line here."]
    assert_exact(text)


def test_bom_is_removed_and_offsets_index_the_served_text() -> None:
    text = decode_article("\ufeffHello there. General Kenobi.".encode())
    assert not text.startswith("\ufeff")
    assert sentences(text) == ["Hello there.", "General Kenobi."]


def test_empty_and_blank_text_have_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\r\n ") == []


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ArticleError, match="empty"):
        read_article(path)


@pytest.mark.parametrize("data", [b"\xff\xfe\x00a", b"caf\xe9 au lait"])
def test_binary_or_non_utf8_is_refused(data: bytes) -> None:
    with pytest.raises(ArticleError):
        decode_article(data, "bad.txt")


def test_markdown_heading_is_the_title_and_not_a_sentence() -> None:
    doc = make_document("chips", "# Chip makers expand\n\nFactories will open. More soon.\n")
    assert doc.title == "Chip makers expand"
    assert [doc.text[s.start : s.end] for s in doc.sentences] == [
        "Factories will open.",
        "More soon.",
    ]


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_a_plain_text_headline_is_the_title_and_not_a_sentence(eol: str) -> None:
    text = (
        f"Harbour bridge reopens after two-year repair{eol}{eol}The bridge opened on Monday.{eol}"
    )
    doc = make_document("bridge", text)
    assert doc.title == "Harbour bridge reopens after two-year repair"
    assert [doc.text[s.start : s.end] for s in doc.sentences] == ["The bridge opened on Monday."]


@pytest.mark.parametrize(
    "text",
    [
        "The bridge opened on Monday.\n\nIt cost 40 million.\n",  # a sentence, not a headline
        "Asked why, the mayor said:\n\nIt cost too much.\n",  # ends like a sentence part
        "Harbour bridge reopens\nThe bridge opened on Monday.\n",  # no blank line after it
        " ".join(["word"] * 20) + "\n\nThe bridge opened on Monday.\n",  # too long
        "Harbour bridge reopens\n\n",  # nothing after it: the line is the article
    ],
    ids=["sentence", "colon", "no-blank-line", "long", "alone"],
)
def test_a_first_line_that_is_no_headline_stays_text(text: str) -> None:
    first = text.split("\n", 1)[0]
    assert first in sentences(text)


def test_title_falls_back_to_readable_file_name() -> None:
    assert title_from("india_japan-pact", "No heading here.") == "India japan pact"


def test_seed_article_sentences_are_exact() -> None:
    (path,) = sorted(SEEDS.glob("*.txt"))[:1]
    doc = read_article(path)
    assert len(doc.sentences) >= 15
    for span in doc.sentences:
        piece = doc.text[span.start : span.end]
        assert piece == piece.strip()
        assert piece in path.read_text(encoding="utf-8")
    texts = [doc.text[s.start : s.end] for s in doc.sentences]
    assert "They have held regular meetings since then." in texts
    assert any("a track 1.5 dialogue of think tanks." in t for t in texts)


def test_read_corpus_reports_bad_files_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A fine sentence.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa")
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "notes.csv").write_text("ignored", encoding="utf-8")
    docs, problems = read_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good"]
    assert len(problems) == 2
    assert any("bad.txt" in p for p in problems) and any("empty.md" in p for p in problems)


# --------------------------------------------------------------------- front matter and titles

FRONT = (
    "---\n"
    "title: Harbour bridge reopens\n"
    "url: https://news.example.com/bridge\n"
    "published: 2025-03-12\n"
    "source: The Coastal Herald\n"
    "author: Maria Lindqvist\n"
    "---\n\n"
)
BODY = "The bridge reopened on Wednesday. It cost 84 million euros.\n"


def test_front_matter_is_metadata_and_the_text_is_the_body() -> None:
    doc = make_document("bridge", FRONT + BODY)
    assert (doc.title, doc.url, doc.published, doc.source, doc.author) == (
        "Harbour bridge reopens",
        "https://news.example.com/bridge",
        "2025-03-12",
        "The Coastal Herald",
        "Maria Lindqvist",
    )
    assert doc.text == BODY
    assert [doc.text[s.start : s.end] for s in doc.sentences] == [
        "The bridge reopened on Wednesday.",
        "It cost 84 million euros.",
    ]


def test_front_matter_round_trips_and_crlf_and_quotes_are_read() -> None:
    meta = Meta("A: title", "http://x.example/a?b=1", "2025-03-12T08:30:00+00:00", "S", None)
    assert split_front_matter(front_matter(meta) + BODY) == (meta, BODY)
    crlf = "---\r\ntitle: \"Quoted\"\r\nsource: 'Paper'\r\n---\r\nBody text here.\r\n"
    assert split_front_matter(crlf) == (Meta(title="Quoted", source="Paper"), "Body text here.\r\n")


@pytest.mark.parametrize(
    "text",
    [
        "---\nThis is prose, not a field.\n---\nBody.\n",  # a rule above and below a line
        "---\ntitle: never closed\nBody.\n",
        "Body first.\n---\ntitle: late\n---\n",
        "----\ntitle: x\n----\nBody.\n",
        "---\nNote: read this first\n---\nBody.\n",  # no metadata field: prose between rules
    ],
)
def test_what_is_not_front_matter_stays_text(text: str) -> None:
    assert split_front_matter(text) == (Meta(), text)


def test_unknown_keys_are_ignored_and_a_bad_date_is_unknown() -> None:
    meta, body = split_front_matter("---\nlayout: post\npublished: last Tuesday\n---\nBody.\n")
    assert (meta, body) == (Meta(), "Body.\n")


def test_iso_date_accepts_dates_and_date_times_only() -> None:
    assert iso_date("2025-03-12") == "2025-03-12"
    assert iso_date("2025-03-12T08:30:00Z") == "2025-03-12T08:30:00+00:00"
    assert iso_date("12 March 2025") is None and iso_date("2025-02-30") is None


def test_text_without_heading_is_titled_by_its_first_sentence_shortened() -> None:
    short = make_document("a_b-c", "Rain fell in Oslo. It stopped.\n")
    assert short.title == "Rain fell in Oslo."
    doc = read_article(sorted(SEEDS.glob("*.txt"))[0])
    assert doc.title == (
        "The governments of India and Japan on Friday said they supported private…"
    )
    assert len(doc.title) <= TITLE_CHARS


def test_shorten_cuts_at_a_word_boundary() -> None:
    assert shorten("word " * 30, 20) == "word word word word…"
    assert shorten("x" * 100, 10) == "x" * 9 + "…"
    assert shorten("Short.", 10) == "Short."


def test_an_article_with_no_known_metadata_gets_no_front_matter_block() -> None:
    # Found by the property test below: an empty block ("---\n---\n") is not front matter, so
    # it stayed in the article as text that could be quoted as an answer.
    assert front_matter(Meta()) == ""
    doc = make_document("a", front_matter(Meta()) + BODY)
    assert doc.text == BODY


_VALUE = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\"'"
    ),
    min_size=1,
    max_size=40,
).map(lambda v: " ".join(v.split()))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_VALUE,
    url=_VALUE,
    source=_VALUE,
    body=st.text(alphabet=st.sampled_from(list("ab. :-\n\r#")), max_size=120),
)
def test_front_matter_never_becomes_answer_text(title: str, url: str, source: str, body: str):
    # Only http(s) URLs are kept (cap_meta).
    web = f"https://example.com/{url}".strip() if url else None
    meta = Meta(title=title or None, url=web, source=source or None)
    doc = make_document("a", front_matter(meta) + body)
    assert (doc.url, doc.source) == (meta.url, meta.source)
    assert doc.text == body.lstrip("\r\n")
    plain = make_document("a", doc.text)
    assert doc.sentences == plain.sentences
    for span in doc.sentences:
        assert doc.text[span.start : span.end] == plain.text[span.start : span.end]


# ---------------------------------------------------------------- threads and long paragraphs

SEED_TEXT = (SEEDS / "000_d0ba9acb54cde4d3.txt").read_text(encoding="utf-8")


def forty_two_sentences() -> str:
    """The seed article's 20 sentences twice over, plus two: 42 sentences."""
    text = "\n".join((SEED_TEXT, SEED_TEXT, "The ministers met again. They agreed on nothing.\n"))
    assert len(split_sentences(text)) == 42
    return text


def test_eight_threads_splitting_one_article_at_once_all_get_the_single_threaded_split() -> None:
    import threading

    text = forty_two_sentences()
    expected = split_sentences(text)
    results: list[list[object]] = []
    start = threading.Barrier(8)

    def split_many() -> None:
        start.wait()
        for _ in range(15):
            results.append(list(split_sentences(text)))

    threads = [threading.Thread(target=split_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 120
    wrong = [len(r) for r in results if r != expected]
    assert wrong == [], f"{len(wrong)} of 120 concurrent splits differ (sentence counts {wrong})"


class CountingSegmenter:
    """Records the length of every text pysbd is given."""

    sizes: ClassVar[list[int]] = []

    def __init__(self, real: object) -> None:
        self.real = real

    def segment(self, text: str) -> list[str]:
        CountingSegmenter.sizes.append(len(text))
        return self.real.segment(text)  # type: ignore[attr-defined,no-any-return]


def test_a_long_one_line_article_reaches_pysbd_in_bounded_windows_totalling_linear_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import qa.corpus.documents as corpus

    real = corpus._segmenter
    monkeypatch.setattr(corpus, "_segmenter", lambda: CountingSegmenter(real()))
    one_line = SEED_TEXT.replace("\n", " ")
    totals = []
    for copies in (10, 80):  # ~30 kB and ~240 kB, one paragraph
        CountingSegmenter.sizes = []
        text = one_line * copies
        spans = split_sentences(text)
        assert " ".join(text[s.start : s.end] for s in spans).split() == text.split()
        assert max(CountingSegmenter.sizes) <= corpus._WINDOW
        totals.append(sum(CountingSegmenter.sizes))
        # Each character is seen about once (windows overlap by at most their margin).
        assert sum(CountingSegmenter.sizes) < 1.5 * len(text)
    # pysbd's cost grows with the square of what it is given; bounded windows keep the sum of
    # squares linear: 8 x the text costs about 8 x, never 64 x.
    assert totals[1] / totals[0] < 9


def test_a_long_paragraph_split_in_windows_matches_one_pysbd_call_over_all_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import qa.corpus.documents as corpus

    tricky = (
        "Dr. J. R. Smith of the U.S. Army said on Jan. 5 that 3.5 million people, e.g. workers, "
        'left St. Louis at 5 p.m. today. "Is it over?" she asked. It was not... Not yet! '
    )
    text = (SEED_TEXT.replace("\n", " ") + tricky) * 4  # ~16 kB in one line
    windowed = split_sentences(text)
    monkeypatch.setattr(corpus, "_WINDOW", 10**9)
    assert windowed == split_sentences(text)
    assert_exact(text)


def test_a_sentence_longer_than_a_window_is_cut_at_a_space_and_keeps_every_word() -> None:
    import qa.corpus.documents as corpus

    text = " ".join(f"word{i}" for i in range(3 * corpus._WINDOW // 6)) + ".\n"
    spans = split_sentences(text)
    assert len(spans) > 1
    assert all(s.end - s.start <= corpus._WINDOW for s in spans)
    rejoined = " ".join(text[s.start : s.end] for s in spans)
    assert rejoined == text.strip()


# ----------------------------------------------------------------------------- doc_id


@pytest.mark.parametrize(
    "doc_id",
    [
        "",
        ".",
        "..",
        ".hidden",
        "../../etc/passwd",
        "..%2F..%2Fetc%2Fpasswd",
        "a/b",
        "a\\b",
        "/etc/passwd",
        "a\x00b",
        "a b",
        "ünïcode",
        "x" * 129,
    ],
)
def test_unsafe_doc_ids_are_refused(doc_id: str) -> None:
    with pytest.raises(ArticleError, match="not allowed"):
        check_doc_id(doc_id)


@pytest.mark.parametrize("doc_id", ["a", "A-b_c.d", "2025.11.27-tokyo", "x" * 128, "a..b"])
def test_safe_doc_ids_pass(doc_id: str) -> None:
    assert check_doc_id(doc_id) == doc_id


def test_a_file_name_that_breaks_the_doc_id_rule_is_skipped_with_the_rule(tmp_path: Path) -> None:
    (tmp_path / "a b.txt").write_text("Spaces are not allowed in a doc_id.")
    (tmp_path / "ok.txt").write_text("This one is fine.")
    documents, problems = read_corpus(tmp_path)
    assert [d.doc_id for d in documents] == ["ok"]
    assert len(problems) == 1 and "'a b' is not allowed" in problems[0]
