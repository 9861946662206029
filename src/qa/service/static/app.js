// qa chat page. Plain JavaScript modules, no build step.
// Everything from the server or an article is put on the page as text (textContent or text
// nodes), never parsed as HTML: an article may contain markup, and it must show literally.

import { api } from "./api.js";
import { replyBubble } from "./bubbles.js";
import { codePoints, el, scrollIntoViewGently } from "./dom.js";
import { createPanel } from "./panel.js";

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

// What a reply's buttons do on the page (see bubbles.js).
const replyActions = {
  retry: (turn) => ask(turn.question, turn),
  openArticle: (citation, opener, options) => panel.openArticle(citation, opener, options),
  save,
};

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
  const reply = replyBubble(turn, replyActions); // first: a turn it cannot show adds nothing
  els.log.append(asked, reply);
  views.set(turn.id, { asked, reply });
}

function refresh(turn) {
  const view = views.get(turn.id);
  if (!view) return null;
  const reply = replyBubble(turn, replyActions);
  view.reply.replaceWith(reply);
  view.reply = reply;
  return reply;
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
