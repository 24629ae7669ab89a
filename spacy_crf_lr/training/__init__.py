"""Training aids: the optimizer with `crf_lr`, the CRF diagnostics and their logger."""
