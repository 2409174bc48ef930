"""The package imports one way. Modules form layers (config and formats, tool_files (annotation tools' files), data, runs (the run folders), metrics, student, the
annotate subpackage in its own order, mixing, trust, train, export and sweep (its index, tables and report), loadgen (whose
latency percentiles speed uses), study, studies (a benchmark study's steps and sections), cli); a module
may import only modules of lower layers, anywhere in its source (inside functions too), and `infer`,
which ships alone in every bundle, imports nothing from the package (any module may use it: data
splits text into words exactly as the runtime does). Each module is also imported alone in a fresh
interpreter, in layer order, and must pull in no module of its own or a later layer."""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "ner_distill"
LAYERS = [["config", "formats"], ["tool_files"], ["data"], ["runs"], ["metrics", "sweep_index"], ["student"],
          ["annotate.prompts", "annotate.client", "annotate.fake_llm", "annotate.local_llm"], ["annotate.teachers"], ["annotate.batch", "annotate.sources"], ["annotate.demos"],
          ["annotate.openai_teacher", "annotate.combine"], ["annotate.run", "annotate.review", "mixing"], ["trust", "distill"], ["train"], ["onnx_variants", "wheelhouse"], ["export", "sweep"], ["sweep_tables"], ["sweep_report"],
          ["loadgen"], ["study", "speed", "word_agreement"], ["studies"], ["cli"]]
LAYER = {m: i for i, ms in enumerate(LAYERS) for m in ms}
LEAVES = {"infer",              # the runtime: imports nothing from the package, so any module may use it
          "distributed"}        # the Ray/Spark recipe: a file a user copies beside a job; it loads the runtime from the bundle
PACKAGES = {"annotate"}         # subpackages: their empty __init__ is no layer of its own
MODULES = {".".join(p.relative_to(PKG).with_suffix("").parts) for p in PKG.rglob("*.py")
           if p.stem not in ("__init__", "_modidx") and "__pycache__" not in p.parts}


def _targets(base: list[str], names) -> set[str]:
    "The modules `from <base> import <names>` reaches: a submodule where a name is one, else the module `base` itself."
    out = set()
    for n in names:
        sub = ".".join(base + [n])
        if sub in MODULES: out.add(sub)
        elif base: out.add(".".join(base))
    return out


def package_imports(module: str) -> set[str]:
    "Every ner_distill module that `module`'s source imports, at any depth of the file."
    tree = ast.parse((PKG / (module.replace(".", "/") + ".py")).read_text())
    pkg, out = module.split(".")[:-1], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            elif node.module and (node.module == "ner_distill" or node.module.startswith("ner_distill.")):
                base = node.module.split(".")[1:]
            else: continue
            out |= _targets(base, [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            out |= {".".join(a.name.split(".")[1:]) for a in node.names if a.name.startswith("ner_distill.")}
    return out - PACKAGES - {module}


def test_every_module_has_a_layer():
    assert MODULES == set(LAYER) | LEAVES


@pytest.mark.parametrize("module", sorted(LAYER))
def test_imports_only_lower_layers(module):
    for dep in package_imports(module):
        if dep in LEAVES: continue      # e.g. data splits text into words exactly as the runtime does
        assert LAYER[dep] < LAYER[module], f"{module} (layer {LAYER[module]}) imports {dep} (layer {LAYER[dep]})"


def test_runtime_is_a_leaf():
    assert package_imports("infer") == set() and package_imports("distributed") == set()
    src = (PKG / "infer.py").read_text()
    assert "import torch" not in src and "transformers" not in src


def test_each_module_imports_alone_in_layer_order():
    order = [m for ms in LAYERS for m in ms] + sorted(LEAVES)
    code = ("import importlib, json, sys\n"
            f"m = {{}}\nfor name in {order!r}:\n"
            "    before = {k for k in sys.modules if k.startswith('ner_distill.')}\n"
            "    importlib.import_module('ner_distill.' + name)\n"
            "    m[name] = sorted({k[12:] for k in sys.modules if k.startswith('ner_distill.')} - {k[12:] for k in before} - {name, '_modidx', 'annotate'})\n"
            "print(json.dumps(m))\n")
    # one fresh interpreter per module, so that nothing is already imported
    for name in order:
        r = subprocess.run([sys.executable, "-c", code.replace(repr(order), repr([name]))], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        pulled = json.loads(r.stdout.strip().splitlines()[-1])[name]
        for dep in pulled:
            if name in LEAVES: raise AssertionError(f"{name} pulled in {dep}")
            if dep in LEAVES: continue
            assert LAYER[dep] < LAYER[name], f"importing {name} pulled in {dep}"


def test_train_help_without_dev_extras():
    "`train --help` reads each flag's help from the config's fields, not from a dev-only library."
    code = ("import sys\n"
            "for m in ('fastcore', 'nbdev', 'execnb'): sys.modules[m] = None   # as if the dev extras were not installed\n"
            "from ner_distill.cli import main\nmain(['train', '--help'])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    import dataclasses
    from ner_distill.train import TrainConfig
    text = "".join(r.stdout.split())            # help is wrapped at any space or hyphen
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text, f.name
        assert "".join(f.metadata["help"].split())[:40] in text, f.name


def test_each_name_is_used_from_the_module_that_defines_it():
    """No module re-exports another's names with `import *`, and no code, test, benchmark or notebook reaches a name of
    `formats` or `tool_files` through `data` (it would read as if `data` defined the name)."""
    import re
    from ner_distill import tool_files, formats
    star = [m for m in MODULES if re.search(r"^from \S+ import \*", (PKG / (m.replace(".", "/") + ".py")).read_text(), re.M)]
    assert not star, star
    elsewhere = set(formats.__all__) | set(tool_files.__all__)
    root = PKG.parent
    files = [*PKG.rglob("*.py"), *root.glob("tests/*.py"), *root.glob("bench/*.py"), *root.glob("nbs/**/*.ipynb")]
    found = {f"{p.relative_to(root)}: data.{n}" for p in files if p.name != "_modidx.py"
             for n in re.findall(r"\bdata\.([A-Za-z_]\w*)\b", p.read_text()) if n in elsewhere}
    assert not found, sorted(found)[:20]
