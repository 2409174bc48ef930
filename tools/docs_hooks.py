"""mkdocs hooks (mkdocs.yml `hooks:`). The "Notebooks" section of the site's nav gets every notebook that
tools/docs.py put in the assembled docs folder, in file name order, each under its own title (its first `# `
heading), so that a new notebook needs no edit of mkdocs.yml; and a notebook page's table of contents is made from
its headings as rendered."""
import json
import re
from pathlib import Path

from mkdocs.structure.toc import get_toc


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


HEADING = re.compile(r'<h([1-6])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
ANCHOR_LINK = re.compile(r'<a\b[^>]*class="anchor-link"[^>]*>.*?</a>', re.S)


def on_page_content(html, page, config, files):
    """A notebook page's table of contents, from its headings as rendered: mkdocs-jupyter drops a heading's inline code
    from the entry and from its anchor (`ner-distill train` became "#_2"), so the entries did not lead to the headings."""
    if not page.file.src_path.endswith(".ipynb"): return html
    tokens, stack = [], []
    for m in HEADING.finditer(html):
        level = int(m.group(1))
        token = {"level": level, "id": m.group(2), "name": ANCHOR_LINK.sub("", m.group(3)).strip(), "children": []}
        while stack and stack[-1]["level"] >= level: stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
    page.toc = get_toc(tokens)
    return html
