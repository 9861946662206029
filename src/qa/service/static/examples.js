// The empty conversation offers a few questions to start from, made from the headlines of the
// newest articles (GET /documents lists them newest first).

import { button, el } from "./dom.js";

const HOW_MANY = 3;
const LONGEST = 90; // a longer title is rather a first sentence than a headline

export function exampleQuestions(docs) {
  const out = [];
  for (const doc of docs) {
    const title = typeof doc.title === "string" ? doc.title.trim() : "";
    // A title ending like a sentence is the article's first sentence, not a headline.
    if (!title || title === doc.doc_id || title.length > LONGEST || /[.!?…]$/.test(title)) continue;
    out.push(`What does “${title}” say?`);
    if (out.length === HOW_MANY) break;
  }
  return out;
}

export function renderExamples(container, docs, pick) {
  const questions = exampleQuestions(docs);
  container.replaceChildren();
  if (!questions.length) return;
  container.append(el("p", "examples-label", "Try one, from the newest articles:"));
  const list = el("ul", "example-list");
  for (const question of questions) {
    const item = el("li");
    const ask = button("quiet-button example", question);
    ask.addEventListener("click", () => pick(question));
    item.append(ask);
    list.append(item);
  }
  container.append(list);
}
