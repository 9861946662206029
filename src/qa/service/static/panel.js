// The article panel: the list of articles, and one article with a cited sentence highlighted.
// Beside the chat on a desktop; on a phone a full-screen sheet that Back, Escape and the
// "Back to answer" button close, returning to the citation that opened it.

import { api } from "./api.js";
import { appendText, button, el, originalLink, toUtf16 } from "./dom.js";
import { byline } from "./words.js";

// Below this width the panel is a sheet (the same breakpoint as in page.css).
const SHEET_QUERY = "(max-width: 55.99rem)";

export function createPanel({ panel, behind, fallbackFocus, onList }) {
  const els = {
    panel,
    title: panel.querySelector("#panel-title"),
    back: panel.querySelector("#panel-back"),
    close: panel.querySelector("#panel-close"),
    body: panel.querySelector("#panel-body"),
    status: panel.querySelector("#panel-status"),
  };
  const sheet = window.matchMedia(SHEET_QUERY);
  const articles = new Map(); // doc_id -> GET /documents/{doc_id} body
  let token = 0; // only the latest request may fill the panel
  let opener = null; // the citation shown in the panel, for Escape; null for the list
  let returnTo = null; // where focus goes when the sheet closes

  // A reload keeps history.state: an old "sheet open" entry must not look like a live one.
  if (history.state && history.state.qaSheet) history.replaceState(null, "");

  function isSheetOpen() {
    return els.panel.classList.contains("open");
  }

  function openSheet(from, label) {
    if (!sheet.matches || isSheetOpen()) return;
    returnTo = from || null;
    els.close.textContent = label;
    els.panel.classList.add("open");
    for (const node of behind) node.inert = true;
    history.pushState({ qaSheet: true }, "");
  }

  function hideSheet() {
    els.panel.classList.remove("open");
    for (const node of behind) node.inert = false;
  }

  function closeSheet({ fromHistory = false } = {}) {
    if (!isSheetOpen()) return;
    hideSheet();
    clearCurrent(); // the article is no longer on screen
    if (!fromHistory && history.state && history.state.qaSheet) history.back();
    const target = returnTo && returnTo.isConnected ? returnTo : fallbackFocus;
    returnTo = null;
    target.focus();
  }

  function clearCurrent() {
    for (const b of document.querySelectorAll(".cite[aria-current]")) b.removeAttribute("aria-current");
  }

  function head(title, { back }) {
    els.title.textContent = title;
    els.back.hidden = !back;
    els.body.replaceChildren();
  }

  function message(text) {
    els.body.replaceChildren(el("p", "muted", text));
  }

  async function showArticleList({ from = null } = {}) {
    const mine = (token += 1);
    opener = null;
    clearCurrent();
    head("Articles", { back: false });
    message("Loading the list of articles…");
    if (from) openSheet(from, "Back to chat");
    let docs;
    try {
      docs = await api("/documents");
    } catch (error) {
      if (mine === token) message(`The articles could not be listed: ${error.message}`);
      return;
    }
    if (mine !== token) return;
    onList(docs);
    if (!docs.length) {
      message("No articles are indexed.");
      return;
    }
    const list = el("ul", "doc-list");
    for (const doc of docs) {
      const item = el("li");
      const link = button("doc-link", doc.title || doc.doc_id);
      link.append(el("span", "doc-meta", byline(doc) || `${doc.sentences} sentences`));
      link.addEventListener("click", () => openArticle(doc, link));
      item.append(link);
      list.append(item);
    }
    els.body.replaceChildren(list);
    // Only now, with the list in place, move there: nothing jumps while it loads.
    if (from) {
      els.body.scrollTop = 0;
      els.title.focus({ preventScroll: true });
      if (!sheet.matches) els.panel.scrollIntoView({ block: "nearest" });
    }
  }

  async function getArticle(docId) {
    if (!articles.has(docId)) articles.set(docId, await api(`/documents/${encodeURIComponent(docId)}`));
    return articles.get(docId);
  }

  function articleMeta(doc) {
    const meta = el("p", "article-meta");
    const by = [doc.author ? `By ${doc.author}` : "", byline(doc)].filter(Boolean).join(" · ");
    if (by) meta.append(el("span", "", by));
    const link = originalLink(doc.url, "Read the original");
    if (link) {
      if (by) meta.append(" · ");
      meta.append(link);
    }
    return meta.childNodes.length ? meta : null;
  }

  // `kind` is "answer" for an answer's sources, "not-answer" for the closest sentences of an
  // abstention, and absent for an article opened from the list.
  async function openArticle(citation, from, { kind } = {}) {
    const mine = (token += 1);
    opener = from && from.classList.contains("cite") ? from : null;
    clearCurrent();
    if (opener) opener.setAttribute("aria-current", "true");
    head(citation.title || citation.doc_id, { back: true });
    message("Opening the article…");
    openSheet(from, opener ? "Back to answer" : "Back to chat");
    let doc;
    try {
      doc = await getArticle(citation.doc_id);
    } catch (error) {
      if (mine === token) message(`The article could not be opened: ${error.message}`);
      return;
    }
    if (mine !== token) return;
    els.title.textContent = doc.title || doc.doc_id;
    const [start, end] = Number.isInteger(citation.start) && Number.isInteger(citation.end)
      ? toUtf16(doc.text, [citation.start, citation.end])
      : [-1, -1];
    const hasSpan = start >= 0 && end > start;
    const notAnswer = kind === "not-answer";
    const parts = [];
    const meta = articleMeta(doc);
    if (meta) parts.push(meta);
    if (hasSpan) {
      parts.push(
        el(
          "p",
          `article-note${notAnswer ? " not-answer" : ""}`,
          notAnswer
            ? "The outlined sentence is the closest the article comes: it does not answer your question."
            : "The highlighted sentence is where the answer comes from.",
        ),
      );
    }
    const text = el("div", "article-text");
    let mark = null;
    if (hasSpan) {
      mark = el("mark", notAnswer ? "not-answer" : "");
      mark.id = "highlight";
      appendText(text, doc.text.slice(0, start));
      if (notAnswer) text.append(el("span", "mark-tag", "Not an answer"));
      appendText(mark, doc.text.slice(start, end));
      text.append(mark);
      appendText(text, doc.text.slice(end));
    } else {
      appendText(text, doc.text);
    }
    parts.push(text);
    els.body.replaceChildren(...parts);
    els.status.textContent = hasSpan
      ? `Opened “${doc.title}” with the ${notAnswer ? "closest" : "cited"} sentence highlighted.`
      : `Opened “${doc.title}”.`;
    els.title.focus({ preventScroll: true });
    if (mark) {
      mark.scrollIntoView({ block: "center", behavior: "auto" });
    } else {
      els.body.scrollTop = 0;
      if (!sheet.matches) els.panel.scrollIntoView({ block: "nearest" });
    }
  }

  els.back.addEventListener("click", () => showArticleList({ from: els.back }));
  els.close.addEventListener("click", () => closeSheet());
  window.addEventListener("popstate", () => closeSheet({ fromHistory: true }));
  sheet.addEventListener("change", () => {
    if (!sheet.matches) hideSheet();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    if (isSheetOpen()) {
      event.preventDefault();
      closeSheet();
    } else if (els.panel.contains(document.activeElement) && opener && opener.isConnected) {
      // Back to the citation whose sentence is shown; from the list there is none to go to.
      event.preventDefault();
      opener.focus();
    }
  });

  return { showArticleList, openArticle };
}
