// What the assistant says in a turn: "Thinking", an error with Retry, or an answer (or "the
// articles don't say") with its sources, Copy and a vote. Everything from the server is put on
// the page as text. `page` is what these bubbles ask of the page: {retry(turn),
// openArticle(citation, opener, options), save()}.

import { api } from "./api.js";
import { button, el, originalLink } from "./dom.js";
import { byline, copyText, shortAnswer, verdict } from "./words.js";

export function replyBubble(turn, page) {
  if (turn.status === "waiting") return thinkingBubble();
  if (turn.status === "failed") return errorBubble(turn, page);
  return answerBubble(turn, page);
}

function thinkingBubble() {
  const bubble = el("div", "bubble bot thinking");
  bubble.append("Thinking");
  const dots = el("span", "dots");
  dots.setAttribute("aria-hidden", "true");
  for (let i = 0; i < 3; i += 1) dots.append(el("span", "", "."));
  bubble.append(dots);
  return bubble;
}

function errorBubble(turn, page) {
  const stopped = Boolean(turn.error && turn.error.stopped);
  const bubble = el("div", `bubble bot error${stopped ? " stopped" : ""}`);
  bubble.append(el("p", "error-title", stopped ? "No answer yet." : "Sorry, that did not work."));
  bubble.append(el("p", "error-message", turn.error ? turn.error.message : ""));
  const retry = button("retry", "Retry");
  retry.setAttribute("aria-label", `Retry: ${turn.question}`);
  retry.addEventListener("click", () => page.retry(turn));
  bubble.append(retry);
  return bubble;
}

function verdictLine(body) {
  const v = verdict(body);
  const line = el("p", `verdict ${v.kind}`, v.text);
  if (v.detail) line.append(el("span", "verdict-detail", ` (${v.detail})`));
  return line;
}

// The quoted sentence, with the short answer marked when the server found one.
function quote(body) {
  const p = el("p", "answer-text");
  const parts = shortAnswer(body);
  if (parts) {
    p.append(parts.before, el("mark", "short-answer", parts.marked), parts.after);
  } else {
    p.textContent = body.answer;
  }
  return p;
}

function sourceCard(citation, { lead, kind }, page) {
  const item = el("li", `source-card${lead ? " lead" : ""}${kind === "not-answer" ? " not-answer" : ""}`);
  const title = citation.title || citation.doc_id;
  const by = byline(citation);
  const open = button(`cite${lead ? " source" : ""}`);
  open.dataset.docId = citation.doc_id;
  if (kind === "not-answer") open.append(el("span", "not-answer-tag", "Not an answer"));
  open.append(el("span", "cite-title", title));
  if (by) open.append(el("span", "cite-byline", by));
  if (!lead) open.append(el("span", "cite-text", citation.text));
  open.append(el("span", "cite-action", lead ? "Show it in the article" : "Show in article"));
  const role = lead ? "Source" : kind === "not-answer" ? "Not an answer, sentence" : "Sentence";
  open.setAttribute(
    "aria-label",
    `${role} from “${title}”${by ? `, ${by}` : ""}: show it in the article`,
  );
  open.addEventListener("click", () =>
    page.openArticle(citation, open, { kind: kind || "answer" }),
  );
  item.append(open);
  const foot = el("div", "card-foot");
  const link = originalLink(citation.url);
  if (link) foot.append(link);
  const details = el("details", "ids");
  details.append(
    el("summary", "", "Details"),
    el("p", "", `doc_id ${citation.doc_id} · sentence_index ${citation.sentence_index}`),
  );
  foot.append(details);
  item.append(foot);
  return item;
}

function answerBubble(turn, page) {
  const body = turn.response;
  const citations = Array.isArray(body.citations) ? body.citations : [];
  const answered = body.answer !== null && body.answer !== undefined;
  const bubble = el("article", `bubble bot ${answered ? "answer" : "abstained"}`);
  bubble.setAttribute("aria-label", answered ? "Answer" : "No answer");
  bubble.append(verdictLine(body));
  if (answered) {
    bubble.append(quote(body));
    const [lead, ...others] = citations;
    if (lead) {
      bubble.append(el("h3", "section-label", "Source"));
      const list = el("ul", "citations");
      list.append(sourceCard(lead, { lead: true }, page));
      bubble.append(list);
    }
    if (others.length) {
      bubble.append(el("h3", "section-label", "Also related"));
      const list = el("ul", "citations");
      for (const c of others) list.append(sourceCard(c, { lead: false }, page));
      bubble.append(list);
    }
  } else if (citations.length) {
    bubble.append(el("h3", "section-label", "Closest sentences — not an answer"));
    const list = el("ul", "citations not-answer");
    for (const c of citations) {
      list.append(sourceCard(c, { lead: false, kind: "not-answer" }, page));
    }
    bubble.append(list);
  }
  const actions = el("div", "actions");
  if (answered) actions.append(copyButton(body));
  actions.append(feedbackRow(turn, page));
  bubble.append(actions);
  return bubble;
}

function copyButton(body) {
  const wrap = el("span", "copy-wrap");
  const copy = button("action copy", "Copy");
  copy.setAttribute("aria-label", "Copy the answer and its source");
  const status = el("span", "copy-status");
  status.setAttribute("role", "status");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(copyText(body));
      status.textContent = "Copied.";
    } catch (_) {
      status.textContent = "Copying is blocked here: select the text to copy it.";
    }
  });
  wrap.append(copy, status);
  return wrap;
}

// One vote per answer: the same button again changes nothing; the other one replaces the
// vote (`qa feedback export` keeps the latest vote on a question and its cited sentence).
function feedbackRow(turn, page) {
  const body = turn.response;
  const lead = body.answer !== null && body.answer !== undefined ? body.citations[0] : null;
  const row = el("div", "feedback");
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", "Was this helpful?");
  row.append(el("span", "", "Was this helpful?"));
  const up = button("vote", "Helpful");
  const down = button("vote", "Not helpful");
  const status = el("span", "feedback-status");
  status.setAttribute("role", "status");
  const show = () => {
    up.setAttribute("aria-pressed", String(turn.vote === true));
    down.setAttribute("aria-pressed", String(turn.vote === false));
  };
  show();

  async function vote(helpful) {
    if (turn.vote === helpful) return;
    const changing = turn.vote === true || turn.vote === false;
    up.disabled = down.disabled = true;
    status.classList.remove("failed");
    status.textContent = "Saving…";
    try {
      await api("/feedback", {
        method: "POST",
        body: JSON.stringify({
          question: body.question,
          answer: lead ? body.answer : null,
          doc_id: lead ? lead.doc_id : null,
          sentence_index: lead ? lead.sentence_index : null,
          helpful,
        }),
      });
      turn.vote = helpful;
      page.save();
      show();
      status.textContent = changing ? "Vote changed." : "Thanks, noted.";
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
