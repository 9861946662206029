// The answer card, read at a glance: the verdict, the short answer (large), the quote with it
// marked, one source line (headline · outlet · date), then Copy and the vote; other sentences
// that may help are folded away, grouped by article. An abstention shows the closest
// sentences, each marked "Not an answer". Everything from the server is put on the page as text.

import { button, el, originalLink } from "./dom.js";
import { looksNotEnglish } from "./lang.js";
import { copyButton, feedbackRow } from "./votes.js";
import {
  byline,
  headline,
  isAnswer,
  outletAndDate,
  shortAnswer,
  sourceLine,
  verdict,
} from "./words.js";

export function answerBubble(turn, page) {
  const body = turn.response;
  const citations = Array.isArray(body.citations)
    ? body.citations.filter((c) => c && typeof c === "object")
    : [];
  const answered = isAnswer(body, page.config);
  const bubble = el("article", `bubble bot ${answered ? "answer" : "abstained"}`);
  bubble.setAttribute("aria-label", answered ? "Answer" : "No answer");
  bubble.tabIndex = -1; // focus moves here on a phone, away from the question box
  const v = verdict(answered ? body : { ...body, answer: null }, page.config);
  const line = el("p", `verdict ${v.kind}`, v.text);
  if (v.detail) line.append(el("span", "verdict-detail", ` (${v.detail})`));
  bubble.append(line);
  if (typeof body.interpreted_as === "string" && body.interpreted_as.trim()) {
    const how = answered ? "Answered as" : "Searched as";
    bubble.append(el("p", "interpreted", `${how}: ${body.interpreted_as.trim()}`));
  }
  if (looksNotEnglish(turn.question)) {
    bubble.append(
      el(
        "p",
        "language-note",
        "The articles are searched in English: asking in English finds more.",
      ),
    );
  }
  if (answered) {
    const [lead, ...others] = citations;
    const parts = shortAnswer(body);
    if (parts) bubble.append(el("p", "short-answer-lead", parts.marked));
    bubble.append(quote(body, parts));
    if (lead) bubble.append(sourceRow(lead, page));
    bubble.append(actions(turn, page, true));
    if (others.length) bubble.append(related(others, page));
  } else {
    if (citations.length) {
      bubble.append(el("h3", "section-label", "Closest sentences — not an answer"));
      const list = el("ul", "citations not-answer");
      for (const c of citations) list.append(notAnswerCard(c, page));
      bubble.append(list);
    }
    bubble.append(actions(turn, page, false));
  }
  return bubble;
}

function actions(turn, page, answered) {
  const row = el("div", "actions");
  if (answered) row.append(copyButton(turn.response, page.config));
  row.append(feedbackRow(turn, page));
  return row;
}

// The quoted sentence, with the short answer marked when the server found one.
function quote(body, parts) {
  const p = el("p", "answer-text");
  if (parts) p.append(parts.before, el("mark", "short-answer", parts.marked), parts.after);
  else p.textContent = body.answer;
  return p;
}

function details(citation) {
  const box = el("details", "ids");
  box.append(
    el("summary", "", "Details"),
    el("p", "", `doc_id ${citation.doc_id} · sentence_index ${citation.sentence_index}`),
  );
  return box;
}

// One line: the headline, outlet and date (a button that shows the sentence in the article),
// the link to the original, and the ids folded away.
function sourceRow(lead, page) {
  const row = el("div", "source-line");
  const open = button("cite source");
  open.dataset.docId = lead.doc_id;
  open.append(el("span", "cite-label", "Source: "), el("span", "cite-title", headline(lead)));
  const rest = outletAndDate(lead);
  if (rest) open.append(el("span", "cite-byline", ` · ${rest}`));
  open.setAttribute("aria-label", `Source: ${sourceLine(lead)}; show it in the article`);
  open.addEventListener("click", () => page.openArticle(lead, open, { kind: "answer" }));
  row.append(open);
  const link = originalLink(lead.url);
  if (link) row.append(link);
  row.append(details(lead));
  return row;
}

// The other sentences, grouped by article, behind a disclosure.
function related(citations, page) {
  const groups = new Map();
  for (const c of citations) {
    if (!groups.has(c.doc_id)) groups.set(c.doc_id, []);
    groups.get(c.doc_id).push(c);
  }
  const box = el("details", "related");
  const n = citations.length;
  const m = groups.size;
  box.append(
    el(
      "summary",
      "",
      `Also related: ${n} sentence${n === 1 ? "" : "s"} from ${m} article${m === 1 ? "" : "s"}`,
    ),
  );
  for (const group of groups.values()) {
    const first = group[0];
    const section = el("section", "related-article");
    const title = el("h3", "related-title", sourceLine(first));
    section.append(title);
    const list = el("ul", "citations");
    for (const c of group) {
      const item = el("li", "related-sentence");
      const open = button("cite");
      open.dataset.docId = c.doc_id;
      open.append(el("span", "cite-text", c.text));
      open.setAttribute(
        "aria-label",
        `“${c.text}”, from ${headline(c)}: show it in the article`,
      );
      open.addEventListener("click", () => page.openArticle(c, open, { kind: "answer" }));
      item.append(open);
      list.append(item);
    }
    section.append(list);
    const foot = el("div", "card-foot");
    const link = originalLink(first.url);
    if (link) foot.append(link);
    if (foot.childNodes.length) section.append(foot);
    box.append(section);
  }
  return box;
}

function notAnswerCard(citation, page) {
  const item = el("li", "source-card not-answer");
  const title = headline(citation);
  const by = byline(citation);
  const open = button("cite");
  open.dataset.docId = citation.doc_id;
  open.append(el("span", "not-answer-tag", "Not an answer"));
  open.append(el("span", "cite-title", title));
  if (by) open.append(el("span", "cite-byline", by));
  open.append(el("span", "cite-text", citation.text));
  open.append(el("span", "cite-action", "Show in article"));
  open.setAttribute(
    "aria-label",
    `Not an answer: “${citation.text}”, from ${title}${by ? `, ${by}` : ""}: show it in the article`,
  );
  open.addEventListener("click", () => page.openArticle(citation, open, { kind: "not-answer" }));
  item.append(open);
  const foot = el("div", "card-foot");
  const link = originalLink(citation.url);
  if (link) foot.append(link);
  foot.append(details(citation));
  item.append(foot);
  return item;
}
