// Where the conversation scrolls when an answer comes. A reader who stayed with the question
// sees the answer from its start; one who scrolled up to read something older is not pulled
// away from it: a "New answer ↓" pill appears instead, and goes once the answer is seen.

import { scrollIntoViewGently } from "./dom.js";

export function createFollow(log, pill) {
  let target = null;

  function hide() {
    pill.hidden = true;
    target = null;
  }

  function inView(node) {
    const box = log.getBoundingClientRect();
    const rect = node.getBoundingClientRect();
    return rect.top < box.bottom && rect.bottom > box.top;
  }

  // Before an answer replaces `waiting`: is the reader still looking at the question's place?
  function following(waiting) {
    return inView(waiting);
  }

  // Show `reply` (the new answer) under its question `asked` when both fit, else from the
  // answer's own start, so its verdict and short answer are what the reader sees first.
  function show(asked, reply) {
    hide();
    const both = reply.getBoundingClientRect().bottom - asked.getBoundingClientRect().top;
    const node = both <= log.clientHeight ? asked : reply;
    node.scrollIntoView({ block: "start", behavior: "auto" });
  }

  function offer(reply) {
    target = reply;
    pill.hidden = false;
  }

  pill.addEventListener("click", () => {
    const node = target;
    hide();
    if (node && node.isConnected) {
      scrollIntoViewGently(node, "start");
      node.focus({ preventScroll: true });
    }
  });
  log.addEventListener("scroll", () => {
    if (target && (!target.isConnected || inView(target))) hide();
  });

  return { following, show, offer, hide };
}
