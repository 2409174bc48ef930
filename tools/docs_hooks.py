"""mkdocs hook (mkdocs.yml `hooks:`): the "Notebooks" section of the site's nav gets every notebook that
tools/docs.py put in the assembled docs folder, in the order of the notebook table (file name order), each
under its own title (its first `# ` heading), so that a new notebook needs no edit of mkdocs.yml."""
import json
from pathlib import Path


def notebook_title(path: Path) -> str:
    "The notebook's first level-1 heading, or its file name."
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown": continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("# "): return line[2:].strip()
    return path.stem


def on_config(config):
    docs = Path(config["docs_dir"])
    nbs = sorted((docs / "nbs").glob("*.ipynb")) + sorted((docs / "nbs" / "experiments").glob("*.ipynb"))
    for item in config["nav"]:
        if isinstance(item, dict) and "Notebooks" in item:
            item["Notebooks"] += [{notebook_title(p): str(p.relative_to(docs))} for p in nbs]
            return config
    raise ValueError("mkdocs.yml: the nav has no 'Notebooks' section for the notebooks")
