"""The HTTP schemas take their doc_id rule from the corpus: they accept exactly the same strings."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from qa.corpus.documents import DOC_ID_RULE, ArticleError, check_doc_id
from qa.service.ops_schemas import NewArticle
from qa.service.routes.articles import DocId
from qa.service.schemas import FeedbackRequest

PATH_DOC_ID = TypeAdapter(DocId)  # PUT and DELETE /documents/{doc_id}

# Near misses: path separators, spaces, line breaks (a `$` that matched before a final "\n"
# would let one through), NUL, non-ASCII letters, and lengths around the limit.
TRICKY = st.sampled_from([*"aZ09._-", "/", "\\", " ", "\n", "\r", "\x00", "é", "😀", "$", "^"])
DOC_IDS = st.one_of(
    st.from_regex(DOC_ID_RULE, fullmatch=True),
    st.text(TRICKY, max_size=12),
    st.builds(lambda a, b: a + b, st.text("ab.", min_size=120, max_size=130), st.text(TRICKY)),
    st.text(max_size=12),
)


def _accepts(validate: Callable[[], object]) -> bool:
    try:
        validate()
    except (ArticleError, ValidationError):
        return False
    return True


@given(DOC_IDS)
@example("x" * 128)
@example("x" * 129)
@example(".hidden")
@example("..")
@example("a\n")
@example("a.")
@example("")
def test_the_api_accepts_exactly_the_doc_ids_the_corpus_accepts(doc_id: str) -> None:
    corpus = _accepts(lambda: check_doc_id(doc_id))
    assert _accepts(lambda: PATH_DOC_ID.validate_python(doc_id)) == corpus
    assert _accepts(lambda: NewArticle.model_validate({"doc_id": doc_id, "text": "x"})) == corpus
    feedback = {"question": "q", "doc_id": doc_id, "sentence_index": 0, "helpful": True}
    assert _accepts(lambda: FeedbackRequest.model_validate(feedback)) == corpus
