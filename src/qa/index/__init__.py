"""The index: built offline from the seeds folder, loaded online, never half of either.

    model        the Index: articles, sentence and chunk tables, vectors, stores
    manifest     the typed Manifest, read and written only there
    build        embed (embed_corpus, checkpoints) and build an Index
    storage      save, publish, prune and load versions (file names in layout)
    freshness    why a built index no longer matches (stale_reasons)
    ensure       ensure_index: load it if current, else rebuild and publish under the lock
    lexical      BM25 and term coverage over sentences and chunks
    stores/      vector store backends behind one interface (base), named in registry

Nothing is imported here: import from the module that defines a name.
"""
