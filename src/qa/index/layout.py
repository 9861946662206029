"""Names of the files and folders of the index folder.

Layout of the index folder (FAISS backend; another backend keeps its own files, if any, beside
these, see `qa.index.stores`)::

    index/
      current -> v-1732712345123456789   symlink, swapped atomically on publish
      v-1732712345123456789/
        manifest.json            what was built from what, and a sha256 of every file below
        documents.json           articles: doc_id, metadata, text, sha256, sentence offsets
        sentence_vectors.npy     one normalised vector per sentence
        chunk_vectors.npy        one per chunk of consecutive sentences
        sentences.faiss          FAISS index over sentence_vectors
        chunks.faiss             FAISS index over chunk_vectors
        bm25/                    BM25 (bm25s) over the sentences, and term document frequencies
        bm25_chunks/             the same over the chunks
      .embedding/                checkpoints of a build in progress (see `embed_corpus`)
      .lock                      held by whoever builds (see `lock`)

A build writes a new `v-*` folder under a temporary name, renames it into place and only then
repoints `current`, so a reader sees the old index or the new one, never half of either.
"""

CURRENT = "current"
MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"
SENTENCE_VECTORS = "sentence_vectors.npy"
CHUNK_VECTORS = "chunk_vectors.npy"
CHUNK_BM25_DIR = "bm25_chunks"
