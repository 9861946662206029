// qa chat page. Plain JavaScript modules, no build step.
// Everything from the server or an article is put on the page as text (textContent or text
// nodes), never parsed as HTML: an article may contain markup, and it must show literally.

import { api } from "./api.js";
import { replyBubble } from "./bubbles.js";
import { button, codePoints, el, scrollIntoViewGently } from "./dom.js";
import { renderExamples } from "./examples.js";
import { createFollow } from "./follow.js";
import { createPanel } from "./panel.js";
import { announcement } from "./words.js";

const STORE_KEY = "qa-chat";
const COUNT_FROM = 0.8; // the character counter shows from this share of the limit on
const HISTORY_TURNS = 5; // the most earlier questions a follow-up question is sent with

const els = {
  topbar: document.querySelector(".topbar"),
  chat: document.querySelector(".chat"),
  form: document.getElementById("ask-form"),
  question: document.getElementById("question"),
  send: document.getElementById("send"),
  count: document.getElementById("question-count"),
  askStatus: document.getElementById("ask-status"),
  announce: document.getElementById("announce"),
  log: document.getElementById("log"),
  intro: document.querySelector(".bubble.intro"),
  examples: document.getElementById("examples"),
  pill: document.getElementById("new-answer"),
  newChat: document.getElementById("new-chat"),
  articlesButton: document.getElementById("articles-button"),
  articleCount: document.getElementById("article-count"),
};

// Replaced by GET /config. Until it comes (or if it fails) the page trusts the server's own
// decision to answer or not; "Likely" starts at the server's default high_confidence.
const config = { abstain_threshold: 0, high_confidence: 0.8, max_question_chars: 1000 };
// On a touch screen the on-screen keyboard would cover the answer: focus leaves the box.
const touch = window.matchMedia("(pointer: coarse)");

// The conversation: {id, question, status: "waiting" | "answered" | "failed", response,
// error: {message, stopped}, vote: true | false | null}. Kept in sessionStorage.
let turns = [];
const views = new Map(); // turn id -> {asked, reply}: the two bubbles of a turn
let pending = null; // {turn, controller} while a question is out
let nextId = 1;
let cleared = null; // {turns, nextId, note}: what New chat removed, until Undo or a new question

const panel = createPanel({
  panel: document.getElementById("panel"),
  behind: [document.querySelector(".skip-link"), els.topbar, els.chat],
  fallbackFocus: els.question,
  onList: (docs) => {
    els.articleCount.textContent = ` (${docs.length})`;
    renderExamples(els.examples, docs, (question) => {
      els.question.value = question;
      askFromBox();
    });
    showExamples();
  },
});
const follow = createFollow(els.log, els.pill);

// What a reply's buttons do on the page (see bubbles.js).
const replyActions = {
  config,
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
  showTurns(stored);
  const last = els.log.lastElementChild;
  if (last) last.scrollIntoView({ block: "end" });
}

function showTurns(stored) {
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
      const view = views.get(turn.id);
      if (view) view.asked.remove();
      views.delete(turn.id);
      break;
    }
    turns.push(turn);
    nextId = Math.max(nextId, turn.id + 1);
  }
  showExamples();
}

function showExamples() {
  els.examples.hidden = turns.length > 0 || !els.examples.childElementCount;
}

function forgetCleared() {
  if (cleared) cleared.note.remove();
  cleared = null;
}

function newChat() {
  if (pending) pending.controller.abort();
  forgetCleared();
  const old = turns;
  turns = [];
  views.clear();
  follow.hide();
  for (const node of [...els.log.children]) if (node !== els.intro) node.remove();
  try {
    sessionStorage.removeItem(STORE_KEY);
  } catch (_) {
    // nothing stored, nothing to remove
  }
  say("");
  if (old.length) {
    const note = el("div", "bubble bot cleared");
    note.append(el("p", "", "The chat was cleared."));
    const undo = button("quiet-button undo", "Undo");
    undo.addEventListener("click", undoNewChat);
    note.append(undo);
    els.log.append(note);
    cleared = { turns: old.filter((t) => t.status !== "waiting"), nextId, note };
    tell("The chat was cleared. Undo is under the introduction.");
  }
  showExamples();
  els.question.focus();
}

function undoNewChat() {
  if (!cleared || turns.length) return;
  const { turns: old } = cleared;
  forgetCleared();
  showTurns(old);
  save();
  tell(`The chat is back: ${old.length} question${old.length === 1 ? "" : "s"}.`);
  const last = els.log.lastElementChild;
  if (last) last.scrollIntoView({ block: "end" });
  els.question.focus({ preventScroll: true });
}

// ---- the conversation ---------------------------------------------------------------------

// A question bubble, labelled for screen readers, clamped to a few lines when long.
function askedBubble(question) {
  const asked = el("div", "bubble user");
  asked.append(el("span", "visually-hidden", "You asked: "));
  const text = el("span", "question-text", question);
  asked.append(text);
  return asked;
}

function clampIfLong(asked) {
  const text = asked.querySelector(".question-text");
  text.classList.add("clamped");
  if (text.scrollHeight <= text.clientHeight + 1) {
    text.classList.remove("clamped");
    return;
  }
  const more = button("show-all", "Show all");
  more.setAttribute("aria-expanded", "false");
  more.addEventListener("click", () => {
    const open = text.classList.toggle("clamped") === false;
    more.textContent = open ? "Show less" : "Show all";
    more.setAttribute("aria-expanded", String(open));
  });
  asked.append(more);
}

function renderTurn(turn) {
  const asked = askedBubble(turn.question);
  const reply = replyBubble(turn, replyActions); // first: a turn it cannot show adds nothing
  els.log.append(asked, reply);
  views.set(turn.id, { asked, reply });
  clampIfLong(asked);
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

function say(text, { error = true } = {}) {
  els.askStatus.textContent = text;
  els.askStatus.classList.toggle("notice", !error);
}

// One short message for screen readers (the conversation itself is not read out whole).
function tell(text) {
  els.announce.textContent = text;
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

// The earlier questions of this chat and where their answers came from, for a server that
// reads follow-up questions ("and when did that happen?") in their light.
function history(turn) {
  const limit = Math.min(HISTORY_TURNS, Number(config.history_turns) || 0);
  const earlier = turns.slice(0, turns.indexOf(turn)).filter((t) => t.status === "answered");
  return earlier.slice(-limit).map((t) => {
    const body = t.response;
    const answered = body.answer !== null && body.answer !== undefined;
    const lead = answered && Array.isArray(body.citations) ? body.citations[0] : null;
    return { question: t.question, doc_id: lead ? lead.doc_id : null };
  });
}

function request(turn) {
  const body = { question: turn.question };
  if (config.history_turns) {
    const earlier = history(turn);
    if (earlier.length) body.history = earlier;
  }
  return body;
}

async function ask(text, existing) {
  if (pending) {
    say("Still waiting for the last answer: press Stop to ask something else.");
    return;
  }
  say("");
  forgetCleared();
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
    showExamples();
  }
  const view = views.get(turn.id);
  scrollIntoViewGently(view.reply);
  if (touch.matches) {
    if (els.form.contains(document.activeElement)) document.activeElement.blur();
  } else if (!els.form.contains(document.activeElement)) {
    els.question.focus({ preventScroll: true });
  }
  const controller = new AbortController();
  pending = { turn, controller };
  setBusy(true);
  save();
  try {
    turn.response = await api("/ask", {
      method: "POST",
      body: JSON.stringify(request(turn)),
      signal: controller.signal,
    });
    turn.status = "answered";
    turn.vote = null;
  } catch (error) {
    turn.status = "failed";
    turn.error = { message: error.message, stopped: Boolean(error.stopped) };
  }
  await configured;
  pending = null;
  const stopped = Boolean(turn.error && turn.error.stopped);
  say(stopped ? "Stopped." : "", { error: false });
  setBusy(false);
  if (!views.has(turn.id)) return; // the chat was cleared meanwhile
  save();
  const following = follow.following(views.get(turn.id).reply);
  const reply = refresh(turn);
  if (turn.status === "answered") tell(announcement(turn.response, config));
  else if (!stopped) tell(`Sorry, that did not work: ${turn.error.message}`);
  if (following) follow.show(views.get(turn.id).asked, reply);
  else follow.offer(reply);
  const active = document.activeElement;
  const inBox = !active || active === document.body || els.form.contains(active);
  if (touch.matches) {
    if (inBox && following) reply.focus({ preventScroll: true });
  } else if (inBox) {
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

async function loadConfig() {
  try {
    Object.assign(config, await api("/config"));
  } catch (_) {
    // The defaults above describe an unconfigured server; asking still works.
  }
  updateCounter();
}

// The stored conversation is drawn at once, and drawn again if the server's thresholds differ
// from the defaults it was drawn with.
restore();
const configured = (async () => {
  const before = [config.abstain_threshold, config.high_confidence];
  await loadConfig();
  if (before[0] === config.abstain_threshold && before[1] === config.high_confidence) return;
  for (const turn of turns) if (turn.status === "answered" && turn !== (pending && pending.turn)) refresh(turn);
})();
panel.showArticleList();
