// Under each answer: Copy (the answer with its source, and its caveat when below "Likely")
// and one vote, Helpful or Not helpful, posted to /feedback.

import { api } from "./api.js";
import { button, el } from "./dom.js";
import { copyText, isAnswer } from "./words.js";

export function copyButton(body, config) {
  const wrap = el("span", "copy-wrap");
  const copy = button("action copy", "Copy");
  copy.setAttribute("aria-label", "Copy the answer and its source");
  const status = el("span", "copy-status");
  status.setAttribute("role", "status");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(copyText(body, config));
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
export function feedbackRow(turn, page) {
  const body = turn.response;
  const lead =
    isAnswer(body, page.config) && Array.isArray(body.citations) ? body.citations[0] : null;
  const row = el("div", "feedback");
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", "Was this helpful?");
  row.append(el("span", "feedback-label", "Was this helpful?"));
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
