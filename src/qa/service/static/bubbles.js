// What the assistant says in a turn: "Thinking", an error with Retry, or an answer card (see
// card.js). `page` is what these bubbles ask of the page: {config, retry(turn),
// openArticle(citation, opener, options), save()}.

import { button, el } from "./dom.js";
import { answerBubble } from "./card.js";

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

// A question the reader stopped is no failure: it is said plainly, not in error colours.
function errorBubble(turn, page) {
  const stopped = Boolean(turn.error && turn.error.stopped);
  const bubble = el("div", `bubble bot error${stopped ? " stopped" : ""}`);
  bubble.tabIndex = -1; // focus moves here on a phone, away from the question box
  bubble.append(el("p", "error-title", stopped ? "No answer yet." : "Sorry, that did not work."));
  bubble.append(el("p", "error-message", turn.error ? turn.error.message : ""));
  const retry = button("retry", "Retry");
  retry.setAttribute("aria-label", `Retry: ${turn.question}`);
  retry.addEventListener("click", () => page.retry(turn));
  bubble.append(retry);
  return bubble;
}
