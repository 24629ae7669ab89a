"""`inspect MODEL`: the learned CRF transition, start and end scores of a trained pipeline, and their sanity."""

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: "argparse._SubParsersAction") -> None:
    """Add the `inspect MODEL [--component NAME] [--plot FILE.png]` subcommand."""
    parser = subparsers.add_parser(
        "inspect", help="print the learned CRF transition, start and end scores of a trained pipeline"
    )
    parser.add_argument("model", help="a trained pipeline (directory or installed package name)")
    parser.add_argument("--component", help="the CRF component to inspect (default: all of them)")
    parser.add_argument(
        "--plot", type=Path, metavar="FILE.png", help="also write a heatmap of the transitions (needs matplotlib)"
    )
    parser.set_defaults(func=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    """Print each CRF component's learned scores and sanity; optionally plot the transitions."""
    import numpy
    import spacy

    from ..crf.diagnostics import describe
    from ..pipeline.base import CRFPipe

    nlp = spacy.load(args.model)
    crfs = [(name, proc) for name, proc in nlp.pipeline if isinstance(proc, CRFPipe)]
    if args.component is not None:
        crfs = [(name, proc) for name, proc in crfs if name == args.component]
    if not crfs:
        what = f"no CRF component named {args.component!r}" if args.component else "no CRF component"
        raise ValueError(f"{args.model}: {what} (pipeline: {nlp.pipe_names})")
    panels = []
    for name, proc in crfs:
        transitions, start, end = (numpy.asarray(a, dtype="float64") for a in proc.crf_scores())
        text, sanity, scheme = describe(proc.labels, transitions, start, end, proc.cfg.get("scheme"))
        print(f"== {name} (decoder {proc.cfg.get('decoder')}, scheme {proc.cfg.get('scheme')}) ==")
        print(text)
        print()
        panels.append((name, list(proc.labels), transitions, sanity, scheme))
    if args.plot is not None:
        try:
            _plot_heatmaps(panels, args.plot)
        except ImportError:
            print("error: --plot needs matplotlib: pip install 'spacy-crf-lr[plot]'", file=sys.stderr)
            return 2
        print(f"wrote {args.plot}")
    return 0


def _plot_heatmaps(panels, path: Path) -> None:
    """One transition heatmap per component; moves the scheme forbids are outlined."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy

    from ..crf.schemes import constraint_masks

    fig, axes = plt.subplots(
        1, len(panels), figsize=(1.2 + 1.1 * max(len(p[1]) for p in panels) * len(panels), 4.5), squeeze=False
    )
    for ax, (name, labels, transitions, sanity, scheme) in zip(axes[0], panels):
        limit = float(numpy.abs(transitions).max()) or 1.0
        image = ax.imshow(transitions, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        forbidden = ~constraint_masks(scheme, tuple(labels))[0] if scheme else numpy.zeros(transitions.shape, bool)
        for i in range(len(labels)):
            for j in range(len(labels)):
                dark = abs(transitions[i, j]) > 0.6 * limit
                ax.text(
                    j,
                    i,
                    f"{transitions[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
                if forbidden[i, j]:
                    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linestyle="--"))
        title = name if sanity is None else f"{name}: sanity {sanity:.2f} ({scheme}; dashed = impossible)"
        ax.set_title(title, fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
