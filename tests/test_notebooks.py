"""Every notebook runs top to bottom, every cell included, as JupyterLab's Run All does: each one
in nbs/ and nbs/experiments/ is executed with papermill and its default parameters, from its own
folder (nbdev_test skips cells that carry flags; this does not). This is the one place `make test` runs them.
Each executed copy is kept in build/executed-nbs/ for the documentation site (tools/docs.py), which shows a notebook's
outputs from it while the notebook and the package are as they were when it ran.
JupyterLab opens each with its kernel, and without a prompt that reaches for the network."""
import importlib.util
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "nbs").glob("*.ipynb")) + sorted((ROOT / "nbs" / "experiments").glob("*.ipynb"))
RAY = {"13_distributed.ipynb"}      # starts Ray: on the xdist worker that runs test_distributed.py, never beside it


@pytest.mark.slow
@pytest.mark.parametrize("nb", [pytest.param(nb, marks=pytest.mark.xdist_group("ray")) if nb.name in RAY else nb for nb in NOTEBOOKS],
                         ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook_runs_top_to_bottom(nb, tmp_path):
    import papermill as pm
    if nb.name == "strategy_run.ipynb":   # its default run folder: train afresh rather than find it finished
        shutil.rmtree(ROOT / "runs" / "notebook-run", ignore_errors=True)
    t = time.time()
    pm.execute_notebook(str(nb), str(tmp_path / nb.name), kernel_name="python3", language="python",
                        progress_bar=False, cwd=str(nb.parent))
    docs_tool().record_executed(nb, tmp_path / nb.name, time.time() - t, "make test")


def docs_tool():
    "tools/docs.py, the documentation site's builder (a script, not part of the package)."
    spec = importlib.util.spec_from_file_location("ner_distill_docs_tool", ROOT / "tools" / "docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "nbs")))
def test_notebook_names_its_kernel(nb):
    """JupyterLab opens a notebook with its kernel (no "Select Kernel" dialog) only when the notebook keeps its
    kernelspec and language_info, and the kernel it names is installed in this environment."""
    import json
    from jupyter_client.kernelspec import KernelSpecManager
    md = json.loads(nb.read_text())["metadata"]
    assert md.get("kernelspec", {}).get("name") == "python3", f"{nb.name}: no python3 kernelspec"
    assert md.get("language_info", {}).get("name") == "python", f"{nb.name}: no language_info"
    assert "python3" in KernelSpecManager().find_kernel_specs()
    jt = md.get("jupytext", {}).get("notebook_metadata_filter", "")
    assert "-all" not in jt or {"kernelspec", "language_info"} <= set(jt.split(",")), f"{nb.name}: jupytext would strip them"


def test_jupyterlab_asks_nothing_of_the_network():
    """`make lab` opens without the "get notified about official Jupyter news?" prompt and checks for no update: this
    environment's own JupyterLab settings (sys.prefix/share/jupyter/lab/settings/overrides.json, written by the
    Makefile, never the user's home) set both off, with values the installed JupyterLab's schema accepts."""
    import json
    import sys
    import jsonschema
    from jupyterlab.commands import get_app_dir
    from jupyterlab_server.settings_utils import _get_overrides, get_settings
    app = Path(get_app_dir())
    assert app == Path(sys.prefix) / "share" / "jupyter" / "lab"
    assert (app / "settings" / "overrides.json").exists(), "run `make install` (it writes the JupyterLab overrides)"
    plugin = "@jupyterlab/apputils-extension:notification"
    overrides, error = _get_overrides(str(app / "settings"))
    assert not error and overrides[plugin] == {"fetchNews": "false", "checkForUpdates": False}
    schema = json.loads((app / "schemas" / "@jupyterlab" / "apputils-extension" / "notification.json").read_text())
    jsonschema.validate(overrides[plugin], schema)
    # what JupyterLab's settings API serves as the defaults, with no user settings at all
    got, _ = get_settings(str(app / "settings"), str(app / "schemas"), str(ROOT / "no-user-settings"), plugin, overrides=overrides)
    props = got["schema"]["properties"]
    assert props["fetchNews"]["default"] == "false" and props["checkForUpdates"]["default"] is False
