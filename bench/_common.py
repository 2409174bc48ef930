"""Helpers shared by the benchmark scripts: the command and machine, sweeps and BENCHMARKS.md sections."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

from ner_distill import runs as runfolders, study, sweep_report, sweep_tables
from ner_distill.speed import machine  # noqa: F401  (every section names the machine it ran on)

matplotlib.use("Agg")                   # figures go to files

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"


def gold_run(study_dir: Path, seed):
    "The gold-only run of `seed` in the sweep `study_dir/gold` (by the sweep's own naming once it has run)."
    gold = Path(study_dir) / "gold"
    return study.run_dir(gold, strategy="gold", seed=seed) if runfolders.SweepFolder(gold).has_settings else gold / "runs" / f"gold-g1000-s{seed}"


def command() -> str:
    return " ".join(["python", *[a if " " not in a else repr(a) for a in [os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]]])


def render(template: str, **values) -> str:
    "bench/sections/TEMPLATE.md filled in with `values` (`str.format`)."
    return (ROOT / "bench" / "sections" / f"{template}.md").read_text().format(**values)


def write_section(name: str, body: str | None = None, **values) -> str:
    """Replace (or append) the section between `<!-- BEGIN name -->` and `<!-- END name -->` of BENCHMARKS.md with
    `body`, or with bench/sections/NAME.md filled in with `values` (`str.format`: the script computes the figures and
    tables, the template holds the prose around them); returns the section's text."""
    if body is None: body = render(name, **values)
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    block = f"<!-- BEGIN {name} -->\n{body.rstrip()}\n<!-- END {name} -->"
    pat = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    text = pat.sub(lambda _: block, text) if pat.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text)
    return body


def cli(*args, log=None, check: bool = True) -> subprocess.CompletedProcess:
    "`ner-distill ARGS` in its own process, offline (Hugging Face reads its cache only); its output to `log` if given."
    cmd = [sys.executable, "-m", "ner_distill.cli", *map(str, args)]
    r = subprocess.run(cmd, env=dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"), stdout=log,
                       stderr=subprocess.STDOUT if log else None)
    if check and r.returncode: raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}")
    return r


def annotate_once(out, *args) -> Path:
    "`ner-distill annotate ARGS --quiet --out OUT`, its output logged beside OUT, unless OUT holds its labels already; OUT."
    out = Path(out)
    if not (out / "labels.jsonl").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out.parent / f"{out.name}.log", "w") as log: cli("annotate", *args, "--quiet", "--out", out, log=log)
    return out


def train_once(out, *flags) -> bool:
    "`ner-distill train FLAGS --out OUT`, its output logged beside OUT, unless OUT holds a finished run; whether it trained."
    out = Path(out)
    if runfolders.RunFolder(out).status == "done": return False
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f"{out.name}.log", "w") as log: cli("train", *flags, "--out", out, log=log)
    return True


def sweep_into(out, *args, params=(), quiet: bool = True, check: bool = False) -> None:
    "`ner-distill sweep --profile study ARGS --param PARAMS --no-report` into OUT (resumable: finished runs are skipped)."
    cli("sweep", "--profile", "study", *args, "--param", *params, "--no-report", *(["--quiet"] if quiet else []), "--out", out, check=check)


def plot(ok, name: str) -> str:
    "`sweep_report.plot_results` of runs (test F1, else dev F1) saved as bench/results/NAME.png; its path for Markdown."
    metric = "test_f1" if "test_f1" in ok and ok.test_f1.notna().any() else "dev_f1"
    sweep_report.plot_results(ok, metric).savefig(ROOT / "bench" / "results" / f"{name}.png", dpi=110)
    return f"bench/results/{name}.png"


def run_study(name: str, sweep_args: list, baseline: str = "gold", template: str | None = None, **values) -> Path:
    """Run a study as `ner-distill sweep` (resumable: finished runs are skipped) into runs/studies/NAME, then write its
    BENCHMARKS.md section: bench/sections/study-NAME.md (or TEMPLATE.md: a title line, then the study's description,
    filled in with `values`) around `ner_distill.sweep`'s tables and plot, the same functions the sweep's HTML report uses."""
    out = ROOT / "runs" / "studies" / name
    t0 = time.time()
    r = cli("sweep", *sweep_args, "--out", out, check=False)
    title, _, intro = render(template or f"study-{name}", **values).partition("\n")
    write_section(f"study-{name}", f"{title}\n\n`{command()}` on {machine()}: the sweep `ner-distill sweep {' '.join(map(str, sweep_args))}` "
                                   f"({study.sweep_summary(out)}; this call {(time.time() - t0) / 60:.0f} min).\n\n{intro.strip()}\n\n"
                                   f"![{title[3:]}]({plot(sweep_tables.load_runs(out)[0], name)})\n\n{sweep_tables.study_markdown(out, baseline)}\n")
    if r.returncode: print(f"the sweep exited with {r.returncode}: see {out}/index.csv", file=sys.stderr)
    return out
