"""Helpers shared by the benchmark scripts: machine description and BENCHMARKS.md sections."""
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"


def cpu() -> str:
    "The CPU as the machine reports it: model name, family and model number, clock, and its vector extensions."
    info = {}
    try:
        for line in open("/proc/cpuinfo"):
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    except OSError:
        return platform.processor() or "unknown CPU"
    flags = info.get("flags", "").split()
    vec = [f for f in flags if f.startswith(("avx", "amx")) or "vnni" in f]
    return (f"{info.get('model name', 'unknown CPU')}, family {info.get('cpu family', '?')} model {info.get('model', '?')}, "
            f"{float(info.get('cpu MHz', 'nan')):.0f} MHz; vector extensions: {' '.join(vec) or 'none above SSE'}")


def machine() -> str:
    import torch
    dev = f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} cores ({cpu()}), {dev}, Python {platform.python_version()}, torch {torch.__version__}"


def command() -> str:
    return " ".join(["python", *[a if " " not in a else repr(a) for a in [os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]]]])


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section between `<!-- BEGIN name -->` and `<!-- END name -->`."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    block = f"<!-- BEGIN {name} -->\n{body.rstrip()}\n<!-- END {name} -->"
    pat = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    text = pat.sub(lambda _: block, text) if pat.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text)


def cli(*args, log=None, check: bool = True) -> subprocess.CompletedProcess:
    "`ner-distill ARGS` in its own process, offline (Hugging Face reads its cache only); its output to `log` if given."
    cmd = [sys.executable, "-m", "ner_distill.cli", *map(str, args)]
    r = subprocess.run(cmd, env=dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1"), stdout=log,
                       stderr=subprocess.STDOUT if log else None)
    if check and r.returncode: raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}")
    return r


def plot(ok, name: str) -> str:
    "`sweep.plot_results` of runs (test F1, else dev F1) saved as bench/results/NAME.png; its path for Markdown."
    import matplotlib
    matplotlib.use("Agg")
    from ner_distill import sweep
    metric = "test_f1" if "test_f1" in ok and ok.test_f1.notna().any() else "dev_f1"
    sweep.plot_results(ok, metric).savefig(ROOT / "bench" / "results" / f"{name}.png", dpi=110)
    return f"bench/results/{name}.png"


def run_study(name: str, sweep_args: list[str], title: str, intro: str, baseline: str = "gold") -> Path:
    """Run a study as `ner-distill sweep` (resumable: finished runs are skipped) into runs/studies/NAME, then write
    its BENCHMARKS.md section from `ner_distill.sweep`'s tables and plot, the same functions the sweep's HTML report
    uses."""
    import time
    from ner_distill import study, sweep
    out = ROOT / "runs" / "studies" / name
    t0 = time.time()
    r = cli("sweep", *sweep_args, "--out", out, check=False)
    png = plot(sweep.load_runs(out)[0], name)
    write_section(f"study-{name}", f"## {title}\n\n`{command()}` on {machine()}: the sweep `ner-distill sweep {' '.join(sweep_args)}` "
                                   f"({study.sweep_summary(out)}; this call {(time.time() - t0) / 60:.0f} min).\n\n{intro}\n\n"
                                   f"![{title}]({png})\n\n{sweep.study_markdown(out, baseline)}\n")
    if r.returncode: print(f"the sweep exited with {r.returncode}: see {out}/index.csv", file=sys.stderr)
    return out
