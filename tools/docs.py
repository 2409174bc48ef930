"""The documentation site, built offline: `make docs` runs `python tools/docs.py build`.

It assembles build/docs-src/ with the repository's own layout, so that a relative link works the same on the site
and in the repository (README.md links to docs/guides/own-data.md, a guide to ../../BENCHMARKS.md#a-section):

    README.md                the home page
    BENCHMARKS.md            the benchmarks, one page
    docs/**/*.md             the guides and the references
    docs/reference/cli.md    generated here from the argparse parsers; each command's example runs at build time
    nbs/**/*.ipynb           the notebooks, with their outputs where there are outputs to show (below)
    bench/results/*.png      the figures the README and BENCHMARKS.md show

and runs `mkdocs build` (mkdocs.yml) into build/site/, which opens from the file system (index.html) with its search.

Notebook outputs. The committed notebooks keep no outputs (nbdev_clean). A notebook's executed copy lives in
build/executed-nbs/, with a .json beside it naming the key it was executed under: the sha256 of the notebook file and
of the package (ner_distill/, which every notebook's exported code becomes), so a copy goes stale as soon as either
changes. `make test` leaves such a copy of every notebook it runs (tests/test_notebooks.py calls `record_executed`);
the build uses a current copy when there is one, else executes the notebook, unless it is one of SLOW (they train,
export, run sweeps or start Ray: a minute or more each on 2 cores), which are then shown without outputs and say so.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
SRC = BUILD / "docs-src"
SITE = BUILD / "site"
EXECUTED = BUILD / "executed-nbs"
NBS = ROOT / "nbs"
NOTEBOOKS = sorted(NBS.glob("*.ipynb")) + sorted((NBS / "experiments").glob("*.ipynb"))

# Not executed when the site is built: what each does, and its time in seconds, one papermill run each on 2 cores that
# a training benchmark shared (so: upper bounds). The 29 others took 357 s in all there, none more than 35 s.
SLOW = {
    "08_export.ipynb": ("exports a bundle and times its variants", 62),
    "08a_onnx_variants.ipynb": ("exports and quantises ONNX models", 217),
    "09b_sweep_tables.ipynb": ("computes paired-bootstrap tables of a sweep", 79),
    "09c_sweep_report.ipynb": ("renders a sweep's report through papermill", 122),
    "11_own_data.ipynb": ("trains a student on its own data and exports its bundle", 1086),
    "12_study.ipynb": ("runs small sweeps", 185),
    "12a_speed.ipynb": ("trains a student and times it", 123),
    "13_distributed.ipynb": ("starts a Ray cluster", 632),
    "analysis.ipynb": ("runs a tiny sweep to report on", 428),
    "strategy_run.ipynb": ("trains a run", 315),
}

HELP_WIDTH = "100"          # COLUMNS for every help text and example, so that the page does not depend on the terminal


def rel(nb: Path) -> str:
    return str(nb.relative_to(NBS))


# ---------------------------------------------------------------------------------------------------- notebooks
def package_digest() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "ner_distill").rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def notebook_key(nb: Path, package: str | None = None) -> str:
    "What an executed copy of `nb` is valid for: this notebook file and this package."
    return hashlib.sha256(nb.read_bytes() + (package or package_digest()).encode()).hexdigest()[:20]


def record_executed(nb: Path, executed: Path, seconds: float, by: str, package: str | None = None) -> Path:
    "Keep `executed` (the notebook `nb` run top to bottom) as its executed copy, with the key it is valid for."
    dst = EXECUTED / rel(nb)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".ipynb.tmp")
    shutil.copyfile(executed, tmp)
    os.replace(tmp, dst)
    meta = dict(key=notebook_key(nb, package), by=by, seconds=round(seconds, 1),
                when=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    dst.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return dst


def current_copy(nb: Path, package: str) -> dict | None:
    "The executed copy's record when it is there and valid for the notebook and package as they are now."
    dst = EXECUTED / rel(nb)
    try:
        meta = json.loads(dst.with_suffix(".json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return meta if dst.exists() and meta.get("key") == notebook_key(nb, package) else None


def execute(nb: Path, package: str) -> dict:
    """Run `nb` top to bottom with papermill, from its own folder (as the tests do), in a process of its own, and keep
    the executed copy."""
    out = BUILD / "executing" / rel(nb)
    out.parent.mkdir(parents=True, exist_ok=True)
    t = time.time()
    r = subprocess.run([sys.executable, "-m", "papermill", str(nb), str(out), "--cwd", str(nb.parent), "--kernel", "python3",
                        "--language", "python", "--no-progress-bar", "--log-level", "WARNING"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{rel(nb)} failed when run for the site:\n{r.stderr[-4000:]}")
    record_executed(nb, out, time.time() - t, "make docs", package)
    return current_copy(nb, package)


def prepare_notebooks(jobs: int = 2, log=print) -> dict[str, dict]:
    """For each notebook: its current executed copy (from `make test` or an earlier build), or one executed now, or
    none (SLOW). Returns {notebook: {"source": "make test"|"make docs"|None, "seconds", "when", "path"}}."""
    package = package_digest()
    plan = {}
    todo = []
    for nb in NOTEBOOKS:
        meta = current_copy(nb, package)
        if meta: plan[rel(nb)] = dict(meta, path=EXECUTED / rel(nb))
        elif nb.name in SLOW: plan[rel(nb)] = dict(by=None, path=nb)
        else: todo.append(nb)
    if todo:
        log(f"executing {len(todo)} notebook(s), {jobs} at a time: {', '.join(rel(nb) for nb in todo)}")
        with ThreadPoolExecutor(jobs) as pool:
            for nb, meta in zip(todo, pool.map(lambda nb: execute(nb, package), todo)):
                plan[rel(nb)] = dict(meta, path=EXECUTED / rel(nb))
                log(f"  {rel(nb)}: {meta['seconds']} s")
    return {rel(nb): plan[rel(nb)] for nb in NOTEBOOKS}


def outputs_note(name: str, meta: dict) -> str:
    "The line a notebook page opens with: where its outputs come from."
    if meta["by"] == "make test":
        return (f"> **Outputs** from the test run (`make test`, {meta['when']}): this notebook ran top to bottom in "
                f"{meta['seconds']:.0f} s, against the sources this page was built from.")
    if meta["by"] == "make docs":
        return (f"> **Outputs** from running this notebook when the site was built ({meta['when']}, "
                f"{meta['seconds']:.0f} s).")
    what, secs = SLOW.get(Path(name).name, ("was not run", 0))
    return (f"> **Shown without outputs:** this notebook {what} (about {secs} s on 2 cores), too slow to run when the "
            f"site is built. `make test` runs it; a `make docs` after that shows the test run's outputs. In "
            f"`make lab` it runs top to bottom.")


def write_notebook(src: Path, dst: Path, note: str):
    "The notebook as shown: its outputs as executed, the note after its title cell."
    nb = json.loads(src.read_text(encoding="utf-8"))
    cell = {"cell_type": "markdown", "metadata": {}, "source": note}
    nb["cells"].insert(1 if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" else 0, cell)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------- the CLI page
class _Captured(Exception):
    pass


def parser_of(main) -> argparse.ArgumentParser:
    "The parser a `main(argv)` builds and parses with, caught before it parses anything."
    got = {}
    def grab(self, *a, **k):
        got["parser"] = self
        raise _Captured
    with mock.patch.object(argparse.ArgumentParser, "parse_args", grab):
        with contextlib.suppress(_Captured): main([])
    return got["parser"]


def commands(p: argparse.ArgumentParser, path: str, help_: str = ""):
    "(command line, parser, one-line help) of `p` and of every subcommand under it, depth first."
    yield path, p, help_ or p.description or ""
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            helps = {c.dest: c.help for c in a._choices_actions}
            for name, sub in a.choices.items():
                yield from commands(sub, f"{path} {name}", helps.get(name) or "")


def _cell(s) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def flag_table(p: argparse.ArgumentParser) -> str:
    fmt = p._get_formatter()
    rows = ["| flag | default | choices | what it does |", "|---|---|---|---|"]
    for a in p._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)): continue
        plain = copy.copy(a)
        plain.choices = None                         # the choices have their own column
        name = ", ".join(a.option_strings) or a.dest
        if a.nargs != 0 and a.option_strings:
            name += " " + fmt._format_args(plain, a.dest.upper())
        elif not a.option_strings and a.nargs not in (None, 1):
            name = fmt._format_args(plain, a.dest)
        default = "" if a.default in (None, argparse.SUPPRESS) or a.default is False else a.default
        help_ = fmt._expand_help(a) if a.help else ""
        help_ = help_.replace(" (default: %s)" % (a.default,), "") if a.default is not argparse.SUPPRESS else help_
        rows.append(f"| `{_cell(name)}` | {f'`{_cell(default)}`' if default != '' else ''} | "
                    f"{_cell(', '.join(map(str, a.choices))) if a.choices else ''} | {_cell(help_)} |")
    return "\n".join(rows) if len(rows) > 2 else ""


def help_text(p: argparse.ArgumentParser) -> str:
    with mock.patch.dict(os.environ, {"COLUMNS": HELP_WIDTH}):
        return p.format_help()


# The example shown under a command: a cheap command run at build time on EXAMPLE_DATA (its real output), or its --help.
EXAMPLE_DATA = {
    "my/dataset.yaml": "name: my-data\nschema: {types: [PERSON, COMPANY]}\ntrain: train.jsonl\ndev: dev.jsonl\nunlabelled: notes.txt\n",
    "my/train.jsonl": "".join(json.dumps(x) + "\n" for x in [
        {"text": "Anna Berg joined Nordwind Logistics in May.", "spans": [{"start": 0, "end": 9, "label": "PERSON"}, {"start": 17, "end": 35, "label": "COMPANY"}]},
        {"text": "Tom Hale sold his shares in Kestrel Air.", "spans": [{"start": 0, "end": 8, "label": "PERSON"}, {"start": 28, "end": 39, "label": "COMPANY"}]},
        {"text": "Nothing happened on Tuesday.", "spans": []}]),
    "my/dev.jsonl": "".join(json.dumps(x) + "\n" for x in [
        {"text": "Maria Lind left Borealis Bank.", "spans": [{"start": 0, "end": 10, "label": "PERSON"}, {"start": 16, "end": 29, "label": "COMPANY"}]},
        {"text": "Kestrel Air hired Ola Dahl.", "spans": [{"start": 0, "end": 11, "label": "COMPANY"}, {"start": 18, "end": 26, "label": "PERSON"}]}]),
    "my/notes.txt": "Ivar Holm met the board of Nordwind Logistics in Oslo.\nShares in Borealis Bank fell on Friday.\n"
                    "Anna Berg will speak for Kestrel Air at the fair.\n",
}
EXAMPLES = {
    "ner-distill data stats": "ner-distill data stats --dataset my/dataset.yaml",
    "ner-distill annotate": "ner-distill annotate --dataset my/dataset.yaml --source unlabelled --teacher openai "
                            "--model gpt-4o-mini --prompt zero-shot --dry-run",
    "ner-distill select": "ner-distill select --dataset my/dataset.yaml --source unlabelled --budget 2 --by random "
                          "--quiet --out runs/selected.jsonl",
}


def run_example(cmdline: str, cwd: Path) -> str:
    """The command run as a user types it, through the console script's own entry point (`ner_distill.cli.main`, in
    this process: the package is imported once for the parsers already), in `cwd`; what it prints."""
    from ner_distill import cli
    argv = shlex.split(cmdline)
    assert argv[0] == "ner-distill"
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    with mock.patch.dict(os.environ, {"COLUMNS": HELP_WIDTH}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL"): os.environ.pop(k, None)
        os.chdir(cwd)
        try:
            rc = cli.main(argv[1:])
        finally:
            os.chdir(here)
    if rc:
        raise RuntimeError(f"the example `{cmdline}` failed ({rc}):\n{out.getvalue()}\n{err.getvalue()}")
    return out.getvalue()


def cli_page(work: Path) -> str:
    from ner_distill import cli, distributed, infer
    work.mkdir(parents=True, exist_ok=True)
    for name, text in EXAMPLE_DATA.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    programs = [("ner-distill", cli.build_parser()), ("ner-distill-infer", parser_of(infer.main)),
                ("python -m ner_distill.distributed", parser_of(distributed.main))]
    out = ["# Command line", "",
           "Generated from the commands' own argparse parsers when this site was built: every command and every flag, "
           "and one example each with its output (a command run on a three-sentence dataset at build time, or its "
           "`--help`). The dataset of the examples, `my/dataset.yaml`:", "",
           "```yaml", EXAMPLE_DATA["my/dataset.yaml"].rstrip(), "```", "",
           "| command | what it does |", "|---|---|"]
    sections = []
    for prog, parser in programs:
        for cmd, p, h in commands(parser, prog):
            out.append(f"| [`{cmd}`](#{anchor(cmd)}) | {_cell(h)} |")
            sections += [f"## `{cmd}`", "", h, ""]
            table = flag_table(p)
            if table: sections += [table, ""]
            if cmd in EXAMPLES:
                sections += ["Example, run when this page was built:", "", "```console", f"$ {EXAMPLES[cmd]}",
                             run_example(EXAMPLES[cmd], work).rstrip(), "```", ""]
            else:
                sections += ["```console", f"$ {cmd} --help", help_text(p).rstrip(), "```", ""]
    return "\n".join(out + [""] + sections)


def anchor(heading: str) -> str:
    from markdown.extensions.toc import slugify
    return slugify(heading, "-")


# ---------------------------------------------------------------------------------------------------- the site
def inputs_digest() -> str:
    "Everything the site is made of: when it is unchanged, so is the site."
    h = hashlib.sha256()
    files = [ROOT / "README.md", ROOT / "BENCHMARKS.md", ROOT / "mkdocs.yml", ROOT / "settings.ini",
             *sorted((ROOT / "docs").rglob("*")), *sorted((ROOT / "tools").glob("docs*.py")),
             *sorted((ROOT / "bench" / "results").glob("*.png")), *NOTEBOOKS,
             *sorted(EXECUTED.rglob("*.json"))]
    for p in files:
        if p.is_file(): h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    h.update(package_digest().encode())
    return h.hexdigest()


def assemble(plan: dict[str, dict], log=print) -> dict:
    shutil.rmtree(SRC, ignore_errors=True)
    SRC.mkdir(parents=True)
    for name in ("README.md", "BENCHMARKS.md"):
        shutil.copyfile(ROOT / name, SRC / name)
    for p in (ROOT / "docs").rglob("*"):
        if p.is_file():
            (SRC / p.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, SRC / p.relative_to(ROOT))
    (SRC / "bench" / "results").mkdir(parents=True)
    for p in (ROOT / "bench" / "results").glob("*.png"):
        shutil.copyfile(p, SRC / "bench" / "results" / p.name)
    for name, meta in plan.items():
        write_notebook(meta["path"], SRC / "nbs" / name, outputs_note(name, meta))
    t = time.time()
    (SRC / "docs" / "reference" / "cli.md").write_text(cli_page(BUILD / "cli-examples"))
    log(f"command line page: {time.time() - t:.0f} s")
    about = SRC / "docs" / "about.md"
    about.write_text(about.read_text().replace("<!-- notebook outputs -->", outputs_table(plan)))
    return plan


def outputs_table(plan: dict[str, dict]) -> str:
    rows = ["| notebook | outputs on its page |", "|---|---|"]
    for name, meta in plan.items():
        where = {"make test": f"from the test run, {meta.get('when')} ({meta.get('seconds', 0):.0f} s)",
                 "make docs": f"executed when the site was built, {meta.get('when')} ({meta.get('seconds', 0):.0f} s)",
                 None: f"none: it {SLOW.get(Path(name).name, ('', 0))[0]}"}[meta["by"]]
        rows.append(f"| [`{name}`](../nbs/{name}) | {where} |")
    return "\n".join(rows)


def build(force: bool = False, jobs: int = 2, log=print) -> Path:
    "Build the site into build/site/ (skipped when nothing it is made of changed since the last build)."
    t0 = time.time()
    stamp = SITE / ".inputs"
    plan = prepare_notebooks(jobs, log)
    t1 = time.time()
    digest = inputs_digest()
    if not force and stamp.exists() and stamp.read_text() == digest:
        log(f"site up to date: {SITE}")
        return SITE
    assemble(plan, log)
    t2 = time.time()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
               NO_MKDOCS_2_WARNING="1")
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(ROOT / "mkdocs.yml")], cwd=ROOT,
                   env=env, check=True)
    stamp.write_text(digest)
    t3 = time.time()
    shown = sum(m["by"] is not None for m in plan.values())
    log(f"site: {SITE / 'index.html'}; {shown} of {len(plan)} notebooks with outputs; "
        f"notebooks {t1 - t0:.0f} s, pages {t2 - t1:.0f} s, mkdocs {t3 - t2:.0f} s, in all {t3 - t0:.0f} s")
    return SITE


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Build the documentation site offline into build/site/.")
    ap.add_argument("command", choices=["build"])
    ap.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    ap.add_argument("--jobs", type=int, default=2, help="notebooks executed at a time")
    a = ap.parse_args()
    build(a.force, a.jobs)
