"""Entry point for `python -m spacy_crf_lr`."""

from .cli import main

raise SystemExit(main())
