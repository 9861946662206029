// What the page says about an answer: confidence in words, dates, bylines, the short answer.
// Pure functions of the server's data; nothing here touches the page.

import { toUtf16 } from "./dom.js";

// Floored, so "Likely" never shows less than 50 % and a 99.6 % is not promised as 100 %.
export function percent(value) {
  const number = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
  return `${Math.floor(number * 100)}\u00a0%`;
}

// The confidence is a calibrated probability that the answer is right, so 50 % is where
// "more likely right than wrong" starts; below the abstention threshold the server withholds
// the answer (answer: null).
export function verdict(body) {
  const pct = percent(body.confidence);
  if (body.answer === null || body.answer === undefined) {
    return { kind: "none", text: "The articles don't say", detail: `best match ${pct}` };
  }
  if (body.confidence >= 0.5) return { kind: "likely", text: `Likely answer (${pct})`, detail: "" };
  return { kind: "possible", text: `Possible answer (${pct}) — check the source`, detail: "" };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// "2025-03-12" or "2025-03-12T08:30:00+01:00" -> "12 Mar 2025": the date as the outlet wrote
// it, not shifted into the reader's time zone.
export function formatDate(published) {
  if (typeof published !== "string") return null;
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(published);
  if (!match) return null;
  const [year, month, day] = match.slice(1).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return `${day} ${MONTHS[month - 1]} ${year}`;
}

// "Reuters, 12 Mar 2025", or whichever of the two is known, or "".
export function byline(item) {
  const parts = [];
  if (typeof item.source === "string" && item.source.trim()) parts.push(item.source.trim());
  const date = formatDate(item.published);
  if (date) parts.push(date);
  return parts.join(", ");
}

// The quoted sentence split around the short answer: {before, marked, after}, or null when
// the response has no usable answer_span (older servers, or offsets that do not check out).
export function shortAnswer(body) {
  const span = body.answer_span;
  const lead = Array.isArray(body.citations) ? body.citations[0] : null;
  if (!span || !lead || typeof lead.text !== "string" || typeof span.text !== "string") return null;
  if (![span.start, span.end, lead.start].every(Number.isInteger)) return null;
  const from = span.start - lead.start;
  const to = span.end - lead.start;
  if (from < 0 || to <= from) return null;
  const [a, b] = toUtf16(lead.text, [from, to]);
  if (a < 0 || b < 0 || lead.text.slice(a, b) !== span.text) return null;
  return { before: lead.text.slice(0, a), marked: span.text, after: lead.text.slice(b) };
}

// What Copy puts on the clipboard: the answer, then where it came from.
export function copyText(body) {
  const lead = Array.isArray(body.citations) ? body.citations[0] : null;
  const lines = [body.answer];
  if (lead) {
    const by = byline(lead);
    lines.push("", `Source: ${lead.title || lead.doc_id}${by ? ` — ${by}` : ""}`);
    if (typeof lead.url === "string" && /^https?:\/\//i.test(lead.url)) lines.push(lead.url);
  }
  return lines.join("\n");
}
