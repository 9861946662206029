// qa chat page. Plain JavaScript modules, no build step.
// Everything from the server or an article is put on the page as text (textContent or text
// nodes), never parsed as HTML: an article may contain markup, and it must show literally.

import { api } from "./api.js";
import { button, codePoints, el, originalLink, scrollIntoViewGently } from "./dom.js";
import { createPanel } from "./panel.js";
import { byline, copyText, shortAnswer, verdict } from "./words.js";

const STORE_KEY = "qa-chat";
const COUNT_FROM = 0.8; // the character counter shows from this share of the limit on

const els = {
  topbar: document.querySelector(".topbar"),
  chat: document.querySelector(".chat"),
  form: document.getElementById("ask-form"),
  question: document.getElementById("question"),
  send: document.getElementById("send"),
  count: document.getElementById("question-count"),
  askStatus: document.getElementById("ask-status"),
  log: document.getElementById("log"),
  newChat: document.getElementById("new-chat"),
  articlesButton: document.getElementById("articles-button"),
  articleCount: document.getElementById("article-count"),
};

// Replaced by GET /config; these are the server's defaults.
const config = { abstain_threshold: 0.5, max_question_chars: 1000 };

// The conversation: {id, question, status: "waiting" | "answered" | "failed", response,
// error: {message, stopped}, vote: true | false | null}. Kept in sessionStorage.
let turns = [];
const views = new Map(); // turn id -> {asked, reply}: the two bubbles of a turn
let pending = null; // {turn, controller} while a question is out
let nextId = 1;

const panel = createPanel({
  panel: document.getElementById("panel"),
  behind: [document.querySelector(".skip-link"), els.topbar, els.chat],
  fallbackFocus: els.question,
  onCount: (n) => {
    els.articleCount.textContent = ` (${n})`;
  },
});

// ---- history ------------------------------------------------------------------------------

function save() {
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify({ version: 1, turns }));
  } catch (_) {
    // Storage full or switched off: the conversation still works, it just won't survive a reload.
  }
}

function restore() {
  let stored = [];
  try {
    const raw = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    if (raw && raw.version === 1 && Array.isArray(raw.turns)) stored = raw.turns;
  } catch (_) {
    stored = [];
  }
  for (const turn of stored) {
    if (!turn || typeof turn.question !== "string" || !Number.isInteger(turn.id)) continue;
    if (turn.status === "waiting" || (turn.status === "answered" && !turn.response)) {
      turn.status = "failed";
      turn.error = { message: "The page was reloaded before the answer came.", stopped: true };
    }
    try {
      renderTurn(turn);
    } catch (_) {
      // A stored turn this version cannot show (an older or altered format): drop the rest.
      views.delete(turn.id);
      break;
    }
    turns.push(turn);
    nextId = Math.max(nextId, turn.id + 1);
  }
  const last = els.log.lastElementChild;
  if (last) last.scrollIntoView({ block: "end" });
}

function newChat() {
  if (pending) pending.controller.abort();
  turns = [];
  views.clear();
  for (const node of [...els.log.children]) if (!node.classList.contains("intro")) node.remove();
  try {
    sessionStorage.removeItem(STORE_KEY);
  } catch (_) {
    // nothing stored, nothing to remove
  }
  say("");
  els.question.focus();
}

// ---- the conversation ---------------------------------------------------------------------

function renderTurn(turn) {
  const asked = el("div", "bubble user", turn.question);
  asked.setAttribute("aria-label", "You asked");
  const reply = replyFor(turn); // first, so a turn that cannot be shown adds nothing
  els.log.append(asked, reply);
  views.set(turn.id, { asked, reply });
}

function refresh(turn) {
  const view = views.get(turn.id);
  if (!view) return null;
  const reply = replyFor(turn);
  view.reply.replaceWith(reply);
  view.reply = reply;
  return reply;
}

function replyFor(turn) {
  if (turn.status === "waiting") return thinkingBubble();
  if (turn.status === "failed") return errorBubble(turn);
  return answerBubble(turn);
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

function errorBubble(turn) {
  const stopped = Boolean(turn.error && turn.error.stopped);
  const bubble = el("div", `bubble bot error${stopped ? " stopped" : ""}`);
  bubble.append(el("p", "error-title", stopped ? "No answer yet." : "Sorry, that did not work."));
  bubble.append(el("p", "error-message", turn.error ? turn.error.message : ""));
  const retry = button("retry", "Retry");
  retry.setAttribute("aria-label", `Retry: ${turn.question}`);
  retry.addEventListener("click", () => ask(turn.question, turn));
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

function sourceCard(citation, { lead, kind }) {
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
  open.addEventListener("click", () => panel.openArticle(citation, open, { kind: kind || "answer" }));
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

function answerBubble(turn) {
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
      list.append(sourceCard(lead, { lead: true }));
      bubble.append(list);
    }
    if (others.length) {
      bubble.append(el("h3", "section-label", "Also related"));
      const list = el("ul", "citations");
      for (const c of others) list.append(sourceCard(c, { lead: false }));
      bubble.append(list);
    }
  } else if (citations.length) {
    bubble.append(el("h3", "section-label", "Closest sentences — not an answer"));
    const list = el("ul", "citations not-answer");
    for (const c of citations) list.append(sourceCard(c, { lead: false, kind: "not-answer" }));
    bubble.append(list);
  }
  const actions = el("div", "actions");
  if (answered) actions.append(copyButton(body));
  actions.append(feedbackRow(turn));
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
function feedbackRow(turn) {
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
      save();
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

// ---- asking -------------------------------------------------------------------------------

function say(text) {
  els.askStatus.textContent = text;
}

function setBusy(value) {
  els.send.textContent = value ? "Stop" : "Ask";
  els.send.classList.toggle("stop", value);
  els.log.setAttribute("aria-busy", String(value));
}

function updateCounter() {
  const limit = config.max_question_chars;
  const n = codePoints(els.question.value);
  const over = n > limit;
  els.count.hidden = n < Math.floor(limit * COUNT_FROM);
  els.count.classList.toggle("over", over);
  els.count.textContent = over
    ? `${n} / ${limit} characters: ${n - limit} too many`
    : `${n} / ${limit} characters`;
  els.question.setAttribute("aria-invalid", String(over));
}

function askFromBox() {
  if (pending) {
    say("Still waiting for the last answer: press Stop to ask something else.");
    return;
  }
  const text = els.question.value;
  if (!text.trim()) {
    els.question.value = "";
    els.question.focus();
    return;
  }
  const n = codePoints(text);
  if (n > config.max_question_chars) {
    say(
      `The question is ${n - config.max_question_chars} characters too long: shorten it to send it.`,
    );
    return;
  }
  els.question.value = "";
  updateCounter();
  // Asking again what just failed retries it in place rather than repeating it.
  const last = turns[turns.length - 1];
  ask(text, last && last.status === "failed" && last.question === text ? last : null);
}

async function ask(text, existing) {
  if (pending) {
    say("Still waiting for the last answer: press Stop to ask something else.");
    return;
  }
  say("");
  let turn = existing;
  if (turn) {
    turn.status = "waiting";
    turn.error = null;
    refresh(turn);
  } else {
    turn = { id: nextId, question: text, status: "waiting", response: null, error: null, vote: null };
    nextId += 1;
    turns.push(turn);
    renderTurn(turn);
  }
  const view = views.get(turn.id);
  scrollIntoViewGently(view.reply);
  if (!els.form.contains(document.activeElement)) els.question.focus({ preventScroll: true });
  const controller = new AbortController();
  pending = { turn, controller };
  setBusy(true);
  save();
  try {
    turn.response = await api("/ask", {
      method: "POST",
      body: JSON.stringify({ question: turn.question }),
      signal: controller.signal,
    });
    turn.status = "answered";
    turn.vote = null;
  } catch (error) {
    turn.status = "failed";
    turn.error = { message: error.message, stopped: Boolean(error.stopped) };
  }
  pending = null;
  say(turn.error && turn.error.stopped ? "Stopped." : "");
  setBusy(false);
  if (!views.has(turn.id)) return; // the chat was cleared meanwhile
  save();
  refresh(turn);
  // Show the question with its answer, from the question down.
  views.get(turn.id).asked.scrollIntoView({ block: "start", behavior: "auto" });
  const active = document.activeElement;
  if (!active || active === document.body || els.form.contains(active)) {
    els.question.focus({ preventScroll: true });
  }
}

els.form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (pending) pending.controller.abort();
  else askFromBox();
});

els.question.addEventListener("keydown", (event) => {
  // Enter sends; Shift+Enter is a new line; never send in the middle of an IME composition.
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    askFromBox();
  }
});

els.question.addEventListener("input", () => {
  updateCounter();
  if (els.askStatus.textContent && !pending) say("");
});

els.newChat.addEventListener("click", newChat);
els.articlesButton.addEventListener("click", () => panel.showArticleList({ from: els.articlesButton }));

// ---- start --------------------------------------------------------------------------------

async function start() {
  try {
    Object.assign(config, await api("/config"));
  } catch (_) {
    // The defaults above describe an unconfigured server; asking still works.
  }
  updateCounter();
}

restore();
start();
panel.showArticleList();
