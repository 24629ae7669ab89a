"""The spaCy components: the shared CRF pipe, `crf_tagger` and `crf_segmenter`."""
