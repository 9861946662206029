// What the page says about an answer: confidence in words, dates, source lines, the short
// answer, what Copy copies. Pure functions of the server's data; nothing here touches the page.

import { toUtf16 } from "./dom.js";

// Floored, so "Likely" never shows less than the level it starts at and a 99.6 % is not
// promised as 100 %.
export function percent(value) {
  const number = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
  return `${Math.floor(number * 100)}\u00a0%`;
}

// One number decides: the server withholds an answer whose confidence (the calibrated
// probability that it is right) is below `abstain_threshold`, and the page never shows one
// either, whatever a response says. "Likely" starts at `high_confidence` (GET /config).
export function isAnswer(body, config) {
  if (body.answer === null || body.answer === undefined) return false;
  return Number.isFinite(body.confidence) && body.confidence >= config.abstain_threshold;
}

export function verdict(body, config) {
  const pct = percent(body.confidence);
  if (!isAnswer(body, config)) {
    return { kind: "none", text: "The articles don't say", detail: `best match ${pct}` };
  }
  if (body.confidence >= config.high_confidence) {
    return { kind: "likely", text: `Likely answer (${pct})`, detail: "" };
  }
  return { kind: "possible", text: `Possible answer (${pct}) — check the source`, detail: "" };
}

export function verdictText(v) {
  return v.detail ? `${v.text} (${v.detail})` : v.text;
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

function outlet(item) {
  return typeof item.source === "string" && item.source.trim() ? item.source.trim() : "";
}

// "Reuters, 12 Mar 2025", or whichever of the two is known, or "".
export function byline(item) {
  return [outlet(item), formatDate(item.published)].filter(Boolean).join(", ");
}

// "Outlet · 12 Mar 2025", "Headline · Outlet · 12 Mar 2025": only the parts that are known,
// so no separator dangles.
export function outletAndDate(item) {
  return [outlet(item), formatDate(item.published)].filter(Boolean).join(" · ");
}

export function sourceLine(item) {
  return [headline(item), outletAndDate(item)].filter(Boolean).join(" · ");
}

export function headline(item) {
  return (typeof item.title === "string" && item.title.trim()) || item.doc_id || "";
}

// The quoted sentence split around the short answer: {before, marked, after}, or null when
// the response has no usable answer_span (older servers, or offsets that do not check out).
// The server gives a span only when it is the kind of thing asked for; the page never
// derives one of its own.
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

// What Copy puts on the clipboard: the answer, then where it came from; an answer below
// "Likely" keeps its caveat, so a pasted quote does not read surer than the page said.
export function copyText(body, config) {
  const lead = Array.isArray(body.citations) ? body.citations[0] : null;
  const v = verdict(body, config);
  const lines = v.kind === "likely" ? [] : [verdictText(v), ""];
  lines.push(body.answer);
  if (lead) {
    const by = byline(lead);
    lines.push("", `Source: ${headline(lead)}${by ? ` — ${by}` : ""}`);
    if (typeof lead.url === "string" && /^https?:\/\//i.test(lead.url)) lines.push(lead.url);
  }
  return lines.join("\n");
}

// What a screen reader hears when an answer comes: the verdict, the short answer and the
// source's headline, not the whole card.
export function announcement(body, config) {
  const v = verdict(body, config);
  if (v.kind === "none") return `${verdictText(v)}.`;
  const parts = shortAnswer(body);
  const lead = Array.isArray(body.citations) ? body.citations[0] : null;
  const words = v.kind === "likely" ? ["Likely", "Source"] : ["Possible", "Check the source"];
  const said = `${words[0]} answer (${percent(body.confidence)})${parts ? `: ${parts.marked}` : ""}.`;
  return lead && typeof lead === "object" ? `${said} ${words[1]}: ${headline(lead)}.` : said;
}
