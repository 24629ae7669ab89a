"""Chinese word segmentation: the `crf_segmenter` component, SIGHAN files, the corpus reader, bakeoff scoring,
user dictionaries and words on Docs."""
