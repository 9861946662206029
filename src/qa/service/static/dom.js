// Small DOM helpers. Text from the server is only ever set as text (textContent, text nodes).

export const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function button(className, text) {
  const node = el("button", className, text);
  node.type = "button";
  return node;
}

export function scrollIntoViewGently(node, block = "nearest") {
  node.scrollIntoView({ block, behavior: reducedMotion ? "auto" : "smooth" });
}

// Offsets from the server count Unicode code points (Python); JavaScript strings count
// UTF-16 units, which differ after any character outside the BMP (emoji, rare CJK).
export function toUtf16(text, offsets) {
  const out = [];
  let point = 0;
  let unit = 0;
  for (const target of offsets) {
    while (point < target && unit < text.length) {
      unit += text.codePointAt(unit) > 0xffff ? 2 : 1;
      point += 1;
    }
    out.push(point === target ? unit : -1);
  }
  return out;
}

// Length in code points, as the server counts it.
export function codePoints(text) {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

// The article as text nodes, exactly as served, with an empty spacer after each line break
// so paragraphs read as paragraphs; the spacers add no text, so offsets stay exact.
export function appendText(parent, text) {
  const pieces = text.split("\n");
  pieces.forEach((piece, i) => {
    const last = i === pieces.length - 1;
    if (piece || !last) parent.append(document.createTextNode(last ? piece : `${piece}\n`));
    if (!last) {
      const gap = el("span", "paragraph-gap");
      gap.setAttribute("aria-hidden", "true");
      parent.append(gap);
    }
  });
}

// A link to an article's original page, only for http(s) addresses: a "javascript:" or
// "data:" URL from a feed must never become a clickable link.
export function originalLink(rawUrl, label) {
  if (typeof rawUrl !== "string" || !rawUrl) return null;
  let url;
  try {
    url = new URL(rawUrl);
  } catch (_) {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const link = el("a", "original", label || `Original on ${url.hostname}`);
  link.href = url.href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.append(el("span", "visually-hidden", " (opens in a new tab)"));
  return link;
}
