"""Shared by the examples' plot.py scripts: the command line, matplotlib (or exit 77 without it),
reading the example's CSV with errors that name the file, and one look for every figure."""
import argparse
import csv
import statistics
import subprocess
import sys
from pathlib import Path

# ctest's SKIP_RETURN_CODE for the plot tests: no matplotlib is a missing tool, not a failure.
SKIP = 77
# Where Debian's python3-matplotlib installs to; a pyenv or virtualenv python3 first on PATH does not see it.
SYSTEM_PYTHON = "/usr/bin/python3"


def _me():
    """The script's name in messages: examples/<example>/plot.py, so it says which example."""
    script = Path(sys.argv[0]).resolve()
    return f"{script.parent.name}/{script.name}"


def parse_args(doc, csv_name, png_name):
    """The command line every plot.py takes: the CSV the example wrote and --out for the PNG
    (default: png_name in the CSV's folder)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", type=Path, help=f"the {csv_name} the example wrote into its --out folder")
    parser.add_argument("--out", type=Path, help=f"PNG to write (default: {png_name} beside the CSV)")
    args = parser.parse_args()
    if args.out is None:
        args.out = args.csv.parent / png_name
    return args


def pyplot():
    """matplotlib.pyplot on the Agg back end (no display needed); exits 77 when matplotlib is not
    importable by this interpreter."""
    try:
        import matplotlib
    except ImportError:
        if sys.executable != SYSTEM_PYTHON and _imports_matplotlib(SYSTEM_PYTHON):
            advice = f"{SYSTEM_PYTHON} has it: {SYSTEM_PYTHON} {' '.join(sys.argv)}"
        else:
            advice = "install it with: apt-get install python3-matplotlib (or pip install matplotlib)"
        print(f"{_me()}: matplotlib is not installed for {sys.executable}; {advice}")
        sys.exit(SKIP)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({
        "font.size": 12,
        "axes.titlesize": 13,
        "axes.grid": True,
        "grid.color": "#e0e0e0",
        "legend.framealpha": 0.9,
        "lines.linewidth": 2,
        "lines.markersize": 6,
    })
    return plt


def _imports_matplotlib(python):
    try:
        return subprocess.run([python, "-c", "import matplotlib"], capture_output=True).returncode == 0
    except OSError:
        return False


def read_rows(path, columns):
    """The CSV's rows as dicts; exits with a message naming the file when it cannot be read, has no
    data rows or lacks one of `columns`."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = []
            for row in reader:
                row["__line__"] = reader.line_num  # for number()'s messages
                rows.append(row)
            header = reader.fieldnames or []
    except OSError as e:
        sys.exit(f"{_me()}: cannot read {path}: {e.strerror}")
    missing = [c for c in columns if c not in header]
    if missing:
        sys.exit(f"{_me()}: {path}: no column {', '.join(missing)} in the header line "
                 f"({','.join(header)})")
    if not rows:
        sys.exit(f"{_me()}: {path}: no data rows after the header")
    return rows


def number(row, column, path):
    """float(row[column]); exits naming the file, line and column when it is not a number."""
    try:
        return float(row[column])
    except (TypeError, ValueError):
        sys.exit(f"{_me()}: {path}:{row['__line__']}: column {column} is not a number: "
                 f"{row[column]!r}")


def median(values):
    """The median as the examples compute it (the mean of the middle two for an even count)."""
    return statistics.median(values)


def plain_log_ticks(axis):
    """Log-scale ticks written as plain numbers (1, 2, 5, 10, 20, 50) instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def legend_outside(ax):
    """The legend to the right of the axes, where it cannot cover a curve whatever the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)


def finish(fig, ax, title, xlabel, ylabel, path):
    """Titles and labels the axes, puts the legend outside them and writes the PNG."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    legend_outside(ax)
    save(fig, path)


def save(fig, path):
    """Writes the figure as a PNG (trimmed to what is drawn, legend included) and says where."""
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"wrote {path}")
