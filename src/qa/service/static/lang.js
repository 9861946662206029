// Whether a question is likely not English: the articles are searched in English (an English
// embedding model, English words for BM25), so a question in another language mostly finds
// nothing, and the reader should know why. A guess from letters and common words, which says
// so only when it is fairly sure.

const ENGLISH = new Set(
  ("the a an of to in on at for and or is are was were be been did does do who what when where " +
    "which why how will would can could has have had it its this that these those with by from " +
    "about after before many much there their they he she his her not").split(" "),
);

// Short, frequent words of other languages written in Latin letters that English does not use.
const OTHER = new Set(
  ("el la los las del que qué quién quien cuándo cuando dónde donde cómo por para una es está " +
    "son fue han hay con sobre le les des du une est où qui quoi quand pourquoi comment avec " +
    "dans pour sont été der die das und ist wer wann wo wie warum wurde hat mit von zu auf ein " +
    "eine nicht il lo gli di che chi dove perché è sono della do da em não quem onde quando " +
    "porque foram het een wie waar wanneer waarom niet").split(" "),
);

export function looksNotEnglish(question) {
  const letters = question.match(/\p{L}/gu) || [];
  if (letters.length < 3) return false;
  const latin = letters.filter((c) => /[A-Za-z\u00C0-\u024F]/.test(c)).length;
  if (latin / letters.length < 0.5) return true; // Cyrillic, Greek, Arabic, CJK, ...
  const words = question.toLowerCase().match(/[\p{L}']+/gu) || [];
  let english = 0;
  let other = 0;
  for (const word of words) {
    if (ENGLISH.has(word)) english += 1;
    else if (OTHER.has(word)) other += 1;
  }
  return other >= 2 && other > english;
}
