"""The generic spaCy components: the shared CRF pipe, `crf_tagger`, label probabilities and ensembles of trained
pipelines (no Chinese-segmentation code: `crf_segmenter` lives in `spacy_crf_lr.cws`)."""
