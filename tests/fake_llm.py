"""An OpenAI-compatible chat-completions server on 127.0.0.1 that misbehaves on purpose.

It stands for a real LLM endpoint (OpenAI, vLLM, llama.cpp's server) in the fault tests: the real
`openai` client talks to it over real HTTP. Behaviour is chosen by a marker word in the sentence:

  RATE   first request: 429 with Retry-After: 1      BOOM      first request: 500
  DOWN   always 500                                  SLOW      first request: answers after 3 s
  MALFORMED  '{"entities": [ {"text": '              PROSE     JSON wrapped in prose
  GHOST  an entity that is not in the sentence       UNKNOWNTYPE  an entity typed ANIMAL

  EMPTY  first request: 200 with no choices          NOCONTENT  first request: a choice whose content is null
  LENGTH while max_tokens < 300: a JSON answer cut off, finish_reason "length"
  FILTER finish_reason "content_filter", no content (final)
  STUBBORN  no choices for the first 3 requests, then answers

  UNSURE     (sampling) the last capitalised word is answered only when the request's seed is divisible by 3
  FLAKY      (sampling) always 500 when the request's seed is 2 mod 3

  BATCHFAIL  (batch API) its line fails with a 500 inside the first batch that holds it

It also speaks the Batch API (POST /v1/files, GET /v1/files/ID/content, POST/GET /v1/batches): a
batch is processed line by line in a background thread through the same answers and faults, taking
`batch_seconds` in all, and writes an output file and an error file, as OpenAI does. `serial=True`
makes it answer one request at a time, as llama-cpp-python's server does.

Otherwise it answers, as JSON, every capitalised word after the first as a LOC (or as `entity_type`, or
as the type `types_by_word` gives that word: a user's own schema). It refuses JSON mode
(400) when started with json_mode=False, like servers without it. It is bounded: it serves at most
`max_requests` requests and stops by itself after `max_seconds`.
"""
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _answer(sentence: str, seed=None, entity_type="LOC", types_by_word=None) -> str:
    words = sentence.split()
    ents = [{"text": w, "type": (types_by_word or {}).get(w, entity_type)} for w in words[1:] if w[:1].isupper() and w.isalpha()
            and w not in ("RATE", "BOOM", "DOWN", "SLOW", "MALFORMED", "PROSE", "GHOST", "UNKNOWNTYPE", "UNSURE", "FLAKY",
                          "EMPTY", "NOCONTENT", "LENGTH", "FILTER", "STUBBORN", "BATCHFAIL")]
    if "UNSURE" in words and ents and (seed or 0) % 3 != 0: ents.pop()
    if "GHOST" in words: ents.append({"text": "Atlantis", "type": "LOC"})
    if "UNKNOWNTYPE" in words: ents.append({"text": words[0], "type": "ANIMAL"})
    body = json.dumps({"entities": ents})
    if "MALFORMED" in words: return '{"entities": [ {"text": '
    if "PROSE" in words: return f"Sure! I found these entities:\n{body}\nLet me know if you need more."
    return body


class FakeLLM:
    def __init__(self, delay: float = 0.0, json_mode: bool = True, max_requests: int = 2000, max_seconds: float = 300,
                 entity_type: str = "LOC", types_by_word: dict | None = None, serial: bool = False, batch_seconds: float = 0.5):
        self.delay, self.json_mode, self.max_requests = delay, json_mode, max_requests
        self.serial, self.batch_seconds = threading.Lock() if serial else None, batch_seconds
        self.files, self.batches = {}, {}   # the Batch API's state
        self.batch_created = 0
        self.direct = 0                     # chat requests outside any batch
        self.entity_type, self.types_by_word = entity_type, types_by_word
        self.requests = Counter()          # per sentence: requests received
        self.answered = Counter()          # per sentence: 200 answers sent
        self.auth = set()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a): pass

            def _send(self, code, obj, headers=()):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers: self.send_header(k, v)
                self.end_headers()
                try: self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError): pass

            def do_GET(self):
                path = self.path.split("?")[0]
                if path.startswith("/v1/files/") and path.endswith("/content"):
                    body = outer.files[path.split("/")[3]]["content"]
                    self.send_response(200); self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body); return
                if path == "/v1/batches":
                    with outer.lock: data = [outer._batch_view(b) for b in outer.batches.values()]
                    return self._send(200, {"object": "list", "data": data[::-1], "has_more": False})
                if path.startswith("/v1/batches/"):
                    with outer.lock: return self._send(200, outer._batch_view(outer.batches[path.split("/")[3]]))
                self._send(200, {"requests": dict(outer.requests), "answered": dict(outer.answered)})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.auth.add(self.headers.get("Authorization", ""))
                path = self.path.split("?")[0]
                if path == "/v1/files":
                    return self._send(200, outer._upload(self.headers.get("Content-Type"), raw))
                if path == "/v1/batches":
                    return self._send(200, outer._create_batch(json.loads(raw)))
                if outer.serial:
                    with outer.serial: code, obj, headers = outer.chat(json.loads(raw))
                else: code, obj, headers = outer.chat(json.loads(raw))
                self._send(code, obj, headers)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._timer = threading.Timer(max_seconds, self.stop)

    def chat(self, req: dict, in_batch: bool = False) -> tuple[int, dict, list]:
        "One chat completion: (HTTP status, body, headers), through the marker words' faults."
        sent = re.sub(r"^Sentence: ", "", req["messages"][-1]["content"].split("\n")[0])
        words = sent.split()
        with self.lock:
            total = sum(self.requests.values())
            self.requests[sent] += 1
            n = self.requests[sent]
            self.direct += not in_batch
        if total >= self.max_requests:
            return 503, {"error": {"message": "test server request bound reached"}}, []
        if "response_format" in req and not self.json_mode:
            return 400, {"error": {"message": "response_format is not supported"}}, []
        if "RATE" in words and n == 1:
            return 429, {"error": {"message": "rate limited"}}, [("Retry-After", "1")]
        if (("BOOM" in words and n == 1) or "DOWN" in words or ("FLAKY" in words and (req.get("seed") or 0) % 3 == 2)
                or (in_batch and "BATCHFAIL" in words and n == 1)):
            return 500, {"error": {"message": "internal error"}}, []
        def reply(choices):
            with self.lock: self.answered[sent] += 1
            return 200, {"id": "x", "object": "chat.completion", "created": 0, "model": req["model"], "choices": choices,
                         "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}, []
        if ("EMPTY" in words and n == 1) or ("STUBBORN" in words and n <= 3): return reply([])
        if "NOCONTENT" in words and n == 1:
            return reply([{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": None}}])
        if "FILTER" in words:
            return reply([{"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant", "content": None}}])
        if "LENGTH" in words and (req.get("max_tokens") or 0) < 300:
            return reply([{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": _answer(sent)[:12]}}])
        if "SLOW" in words and n == 1:
            time.sleep(3)
        if self.delay: time.sleep(self.delay)
        content = _answer(sent, req.get("seed"), self.entity_type, self.types_by_word)
        return reply([{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}])

    # ---- the Batch API ----
    def _upload(self, ctype: str, raw: bytes) -> dict:
        from email.parser import BytesParser
        msg = BytesParser().parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw)
        parts = {p.get_param("name", header="content-disposition"): p for p in msg.get_payload()}
        with self.lock:
            fid = f"file-{len(self.files):04d}"
            self.files[fid] = dict(content=parts["file"].get_payload(decode=True), purpose=parts["purpose"].get_payload())
        return {"id": fid, "object": "file", "bytes": len(self.files[fid]["content"]), "created_at": 0,
                "filename": parts["file"].get_filename(), "purpose": "batch", "status": "processed"}

    def _create_batch(self, req: dict) -> dict:
        lines = [json.loads(x) for x in self.files[req["input_file_id"]]["content"].decode().splitlines() if x.strip()]
        with self.lock:
            bid = f"batch_{len(self.batches):04d}"
            self.batch_created += 1
            self.batches[bid] = b = dict(id=bid, input_file_id=req["input_file_id"], metadata=req.get("metadata"), status="in_progress",
                                         total=len(lines), completed=0, failed=0, output_file_id=None, error_file_id=None)
        threading.Thread(target=self._process, args=(b, lines), daemon=True).start()
        return self._batch_view(b)

    def _process(self, b: dict, lines: list[dict]):
        out, err = [], []
        for i, line in enumerate(lines):
            time.sleep(self.batch_seconds / max(1, len(lines)))
            code, body, _ = self.chat(line["body"], in_batch=True)
            rec = {"id": f"req_{i}", "custom_id": line["custom_id"], "response": {"status_code": code, "request_id": f"r{i}", "body": body},
                   "error": None}
            with self.lock:
                (out if code == 200 else err).append(json.dumps(rec))
                b["completed" if code == 200 else "failed"] += 1
        with self.lock:
            for name, recs in (("output_file_id", out), ("error_file_id", err)):
                if recs:
                    fid = f"file-{len(self.files):04d}"
                    self.files[fid] = dict(content=("\n".join(recs) + "\n").encode(), purpose="batch_output")
                    b[name] = fid
            b["status"] = "completed"

    def _batch_view(self, b: dict) -> dict:
        return {"id": b["id"], "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
                "input_file_id": b["input_file_id"], "completion_window": "24h", "status": b["status"],
                "output_file_id": b["output_file_id"], "error_file_id": b["error_file_id"], "created_at": 0,
                "request_counts": {"total": b["total"], "completed": b["completed"], "failed": b["failed"]},
                "metadata": b["metadata"]}

    def __enter__(self):
        self._thread.start(); self._timer.start(); return self

    def stop(self):
        self.server.shutdown(); self.server.server_close()

    def __exit__(self, *a):
        self._timer.cancel(); self.stop()



if __name__ == "__main__":     # a fake server in its own process (bench/endpoints.py): prints its base URL, serves until killed
    import argparse
    import sys
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--serial", action="store_true")
    ap.add_argument("--max-seconds", type=float, default=3600)
    a = ap.parse_args()
    srv = FakeLLM(delay=a.delay, serial=a.serial, max_requests=10**9, max_seconds=a.max_seconds).__enter__()
    print(srv.base_url, flush=True)
    sys.stdin.read()            # until the parent closes our stdin (or kills us)
    srv.__exit__()
