"""Chinese word segmentation: SIGHAN files, the corpus reader, bakeoff scoring, words on Docs, parallel runs."""
