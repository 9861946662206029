// qa chat page. Plain JavaScript, no build step.
// Everything from the server or an article is put on the page as text (textContent or text
// nodes), never parsed as HTML: an article may contain markup, and it must show literally.
"use strict";

(() => {
  const REQUEST_TIMEOUT_MS = 60000;

  const els = {
    form: document.getElementById("ask-form"),
    question: document.getElementById("question"),
    send: document.getElementById("send"),
    log: document.getElementById("log"),
    articlesButton: document.getElementById("articles-button"),
    articleCount: document.getElementById("article-count"),
    panel: document.getElementById("panel"),
    panelTitle: document.getElementById("panel-title"),
    panelBack: document.getElementById("panel-back"),
    panelBody: document.getElementById("panel-body"),
    panelStatus: document.getElementById("panel-status"),
  };

  // Replaced by GET /config; these are the server's defaults.
  const config = { abstain_threshold: 0.5, high_confidence: 0.8, max_question_chars: 1000 };
  const articles = new Map(); // doc_id -> GET /documents/{doc_id} body
  let busy = false;
  let panelToken = 0; // only the latest article request may fill the panel
  let opener = null; // the citation button that opened the article, for Escape

  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  // ---- small DOM helpers ------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function button(className, text) {
    const node = el("button", className, text);
    node.type = "button";
    return node;
  }

  function scrollToEnd(node) {
    node.scrollIntoView({ block: "nearest", behavior: reducedMotion ? "auto" : "smooth" });
  }

  // ---- talking to the API -----------------------------------------------------------------

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, options = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(path, {
        ...options,
        signal: controller.signal,
        headers: { Accept: "application/json", "Content-Type": "application/json" },
      });
    } catch (error) {
      const timedOut = error && error.name === "AbortError";
      throw new ApiError(
        timedOut
          ? "The server took too long to answer. Please try again."
          : "The server could not be reached. Check that it is running, then try again.",
        0,
      );
    } finally {
      clearTimeout(timer);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const message =
        body && typeof body.error === "string" && body.error
          ? body.error
          : `the server answered ${response.status} ${response.statusText}`.trim();
      throw new ApiError(message, response.status);
    }
    if (body === null) {
      throw new ApiError("The server sent a reply that is not JSON.", response.status);
    }
    return body;
  }

  // ---- confidence in words ----------------------------------------------------------------

  function confidenceWord(value) {
    if (value >= config.high_confidence) return "high";
    if (value >= config.abstain_threshold) return "medium";
    return "low";
  }

  function confidenceBadge(value) {
    const word = confidenceWord(value);
    const badge = el("span", `confidence ${word}`, `Confidence: ${word}`);
    badge.title = `Estimated probability that this answers the question: ${Math.round(
      value * 100,
    )}%`;
    return badge;
  }

  // ---- the conversation -------------------------------------------------------------------

  function addBubble(bubble) {
    els.log.append(bubble);
    scrollToEnd(bubble);
    return bubble;
  }

  function addQuestion(text) {
    const bubble = el("div", "bubble user", text);
    bubble.setAttribute("aria-label", "You asked");
    return addBubble(bubble);
  }

  function addThinking() {
    const bubble = el("div", "bubble bot thinking");
    bubble.append("Thinking");
    const dots = el("span", "dots");
    dots.setAttribute("aria-hidden", "true");
    for (let i = 0; i < 3; i += 1) dots.append(el("span", "", "."));
    bubble.append(dots);
    return addBubble(bubble);
  }

  function addError(message) {
    const bubble = el("div", "bubble bot error");
    bubble.append(el("p", "error-title", "Sorry, that did not work."));
    bubble.append(el("p", "error-message", message));
    bubble.append(el("p", "", "Your question is back in the box: try again when ready."));
    return addBubble(bubble);
  }

  function citationButton(citation, { lead, kind }) {
    const item = el("li");
    const btn = button(`cite${lead ? " source" : ""}`);
    btn.dataset.docId = citation.doc_id;
    if (kind === "not-answer") btn.append(el("span", "not-answer-tag", "Not an answer"));
    btn.append(el("span", "cite-title", citation.title));
    if (!lead) btn.append(el("span", "cite-text", citation.text));
    btn.append(el("span", "cite-action", lead ? "Show it in the article" : "Show in article"));
    btn.setAttribute(
      "aria-label",
      `${lead ? "Source" : "Sentence"} from “${citation.title}”: show it in the article`,
    );
    btn.addEventListener("click", () => openArticle(citation, btn));
    item.append(btn);
    return item;
  }

  function addAnswer(body) {
    const bubble = el("article", "bubble bot answer");
    const citations = Array.isArray(body.citations) ? body.citations : [];
    if (body.answer !== null && body.answer !== undefined) {
      bubble.setAttribute("aria-label", "Answer");
      bubble.append(el("p", "answer-text", body.answer));
      const meta = el("p", "meta-row");
      meta.append(confidenceBadge(body.confidence));
      bubble.append(meta);
      const [lead, ...others] = citations;
      if (lead) {
        bubble.append(el("h3", "section-label", "Source"));
        const list = el("ul", "citations");
        list.append(citationButton(lead, { lead: true }));
        bubble.append(list);
      }
      if (others.length) {
        bubble.append(el("h3", "section-label", "Also related"));
        const list = el("ul", "citations");
        for (const c of others) list.append(citationButton(c, { lead: false }));
        bubble.append(list);
      }
      bubble.append(feedbackRow(body, lead || null));
    } else {
      bubble.classList.add("abstained");
      bubble.setAttribute("aria-label", "No answer");
      bubble.append(el("p", "no-answer", "The articles hold no answer to this question."));
      const meta = el("p", "meta-row");
      meta.append(confidenceBadge(body.confidence));
      bubble.append(meta);
      if (citations.length) {
        bubble.append(el("h3", "section-label", "Closest sentences — not an answer"));
        const list = el("ul", "citations not-answer");
        for (const c of citations) list.append(citationButton(c, { lead: false, kind: "not-answer" }));
        bubble.append(list);
      }
      bubble.append(feedbackRow(body, null));
    }
    return addBubble(bubble);
  }

  // ---- feedback ---------------------------------------------------------------------------

  function feedbackRow(body, lead) {
    const row = el("div", "feedback");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "Was this helpful?");
    row.append(el("span", "", "Was this helpful?"));
    const up = button("vote", "👍");
    up.setAttribute("aria-label", "Helpful");
    const down = button("vote", "👎");
    down.setAttribute("aria-label", "Not helpful");
    for (const b of [up, down]) b.setAttribute("aria-pressed", "false");
    const status = el("span", "feedback-status");
    status.setAttribute("aria-live", "polite");

    async function vote(helpful) {
      up.disabled = down.disabled = true;
      status.classList.remove("failed");
      status.textContent = "Saving…";
      try {
        await api("/feedback", {
          method: "POST",
          body: JSON.stringify({
            question: body.question,
            answer: body.answer === undefined ? null : body.answer,
            doc_id: lead ? lead.doc_id : null,
            sentence_index: lead ? lead.sentence_index : null,
            helpful,
          }),
        });
        up.setAttribute("aria-pressed", String(helpful));
        down.setAttribute("aria-pressed", String(!helpful));
        status.textContent = "Thanks, noted.";
      } catch (error) {
        status.classList.add("failed");
        status.textContent = `Feedback not saved: ${error.message}`;
      } finally {
        up.disabled = down.disabled = false;
      }
    }

    up.addEventListener("click", () => vote(true));
    down.addEventListener("click", () => vote(false));
    row.append(up, down, status);
    return row;
  }

  // ---- asking -----------------------------------------------------------------------------

  function setBusy(value) {
    busy = value;
    els.question.disabled = value;
    els.send.disabled = value;
    els.log.setAttribute("aria-busy", String(value));
  }

  async function ask() {
    if (busy) return;
    const text = els.question.value;
    if (!text.trim()) {
      els.question.value = "";
      els.question.focus();
      return;
    }
    const asked = addQuestion(text);
    els.question.value = "";
    setBusy(true);
    const thinking = addThinking();
    try {
      const body = await api("/ask", { method: "POST", body: JSON.stringify({ question: text }) });
      thinking.remove();
      addAnswer(body);
      // Show the question with its answer, from the question down.
      asked.scrollIntoView({ block: "start", behavior: reducedMotion ? "auto" : "smooth" });
    } catch (error) {
      thinking.remove();
      addError(error.message);
      if (!els.question.value) els.question.value = text;
    } finally {
      setBusy(false);
      els.question.focus({ preventScroll: true });
    }
  }

  els.form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask();
  });

  els.question.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter is a new line; never send in the middle of an IME composition.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ask();
    }
  });

  // ---- the article panel ------------------------------------------------------------------

  function showPanel(title, { back }) {
    els.panelTitle.textContent = title;
    els.panelBack.hidden = !back;
    els.panelBody.replaceChildren();
  }

  function panelMessage(text, className = "muted") {
    els.panelBody.replaceChildren(el("p", className, text));
  }

  async function showArticleList({ focus }) {
    const token = (panelToken += 1);
    showPanel("Articles", { back: false });
    for (const b of els.log.querySelectorAll(".cite[aria-current]")) b.removeAttribute("aria-current");
    panelMessage("Loading the list of articles…");
    if (focus) revealPanel();
    let docs;
    try {
      docs = await api("/documents");
    } catch (error) {
      if (token === panelToken) panelMessage(`The articles could not be listed: ${error.message}`);
      return;
    }
    if (token !== panelToken) return;
    els.articleCount.textContent = ` (${docs.length})`;
    if (!docs.length) {
      panelMessage("No articles are indexed.");
      return;
    }
    const list = el("ul", "doc-list");
    for (const doc of docs) {
      const item = el("li");
      const link = button("doc-link", doc.title);
      link.append(el("span", "doc-meta", `${doc.doc_id} · ${doc.sentences} sentences`));
      link.addEventListener("click", () => openArticle({ doc_id: doc.doc_id, title: doc.title }, link));
      item.append(link);
      list.append(item);
    }
    els.panelBody.replaceChildren(list);
  }

  function revealPanel() {
    els.panelTitle.focus({ preventScroll: true });
    els.panel.scrollIntoView({ block: "start", behavior: reducedMotion ? "auto" : "smooth" });
  }

  async function getArticle(docId) {
    if (!articles.has(docId)) {
      articles.set(docId, await api(`/documents/${encodeURIComponent(docId)}`));
    }
    return articles.get(docId);
  }

  // Offsets from the server count Unicode code points (Python); JavaScript strings count
  // UTF-16 units, which differ after any character outside the BMP (emoji, rare CJK).
  function toUtf16(text, offsets) {
    const out = [];
    let point = 0;
    let unit = 0;
    for (const target of offsets) {
      while (point < target && unit < text.length) {
        unit += text.codePointAt(unit) > 0xffff ? 2 : 1;
        point += 1;
      }
      out.push(unit);
    }
    return out;
  }

  // The article as text nodes, exactly as served, with an empty spacer after each line break
  // so paragraphs read as paragraphs; the spacers add no text, so offsets stay exact.
  function appendText(parent, text) {
    const pieces = text.split("\n");
    pieces.forEach((piece, i) => {
      const last = i === pieces.length - 1;
      if (piece || !last) parent.append(document.createTextNode(last ? piece : `${piece}\n`));
      if (!last) {
        const gap = el("span", "paragraph-gap");
        gap.setAttribute("aria-hidden", "true");
        parent.append(gap);
      }
    });
  }

  async function openArticle(citation, from) {
    const token = (panelToken += 1);
    opener = from || null;
    for (const b of els.log.querySelectorAll(".cite[aria-current]")) b.removeAttribute("aria-current");
    if (from && from.classList.contains("cite")) from.setAttribute("aria-current", "true");
    showPanel(citation.title || citation.doc_id, { back: true });
    panelMessage("Opening the article…");
    let doc;
    try {
      doc = await getArticle(citation.doc_id);
    } catch (error) {
      if (token === panelToken) panelMessage(`The article could not be opened: ${error.message}`);
      return;
    }
    if (token !== panelToken) return;
    els.panelTitle.textContent = doc.title;
    const hasSpan = Number.isInteger(citation.start) && Number.isInteger(citation.end);
    const meta = el(
      "p",
      "article-meta",
      hasSpan
        ? `${doc.doc_id} · the cited sentence is highlighted`
        : `${doc.doc_id} · ${doc.sentences.length} sentences`,
    );
    const body = el("div", "article-text");
    let mark = null;
    if (hasSpan) {
      const [start, end] = toUtf16(doc.text, [citation.start, citation.end]);
      mark = el("mark");
      mark.id = "highlight";
      mark.tabIndex = -1;
      appendText(body, doc.text.slice(0, start));
      appendText(mark, doc.text.slice(start, end));
      body.append(mark);
      appendText(body, doc.text.slice(end));
    } else {
      appendText(body, doc.text);
    }
    els.panelBody.replaceChildren(meta, body);
    els.panelStatus.textContent = hasSpan
      ? `Opened “${doc.title}” with the cited sentence highlighted.`
      : `Opened “${doc.title}”.`;
    els.panelTitle.focus({ preventScroll: true });
    if (mark) {
      mark.scrollIntoView({ block: "center", behavior: "auto" });
    } else {
      els.panelBody.scrollTop = 0;
      els.panel.scrollIntoView({ block: "start", behavior: "auto" });
    }
  }

  els.articlesButton.addEventListener("click", () => showArticleList({ focus: true }));
  els.panelBack.addEventListener("click", () => showArticleList({ focus: true }));

  els.panel.addEventListener("keydown", (event) => {
    // Escape goes back to the citation that opened the article.
    if (event.key === "Escape" && opener && opener.isConnected) {
      event.preventDefault();
      opener.focus();
    }
  });

  // ---- start ------------------------------------------------------------------------------

  async function start() {
    try {
      Object.assign(config, await api("/config"));
      els.question.maxLength = config.max_question_chars;
    } catch (_) {
      // The defaults above describe an unconfigured server; asking still works.
    }
  }

  start();
  showArticleList({ focus: false });
})();
