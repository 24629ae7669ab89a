"""Registered model architectures: the CRF tagger model and the ensemble; the character features are in chars/."""
