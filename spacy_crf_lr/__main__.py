"""Entry point for `python -m spacy_crf_lr`."""

import os
import sys

from .cli import EXIT_SIGINT, EXIT_SIGTERM, main

code = main()
if code in (EXIT_SIGINT, EXIT_SIGTERM):
    # Interrupted: main has removed the partial output and ended the workers. Leave without the interpreter's
    # exit hooks: concurrent.futures' own (_python_exit) can race with its stopped executor and print a
    # "Bad file descriptor" traceback after our one-line message.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
raise SystemExit(code)
