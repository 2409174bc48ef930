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
                          "EMPTY", "NOCONTENT", "LENGTH", "FILTER", "STUBBORN")]
    if "UNSURE" in words and ents and (seed or 0) % 3 != 0: ents.pop()
    if "GHOST" in words: ents.append({"text": "Atlantis", "type": "LOC"})
    if "UNKNOWNTYPE" in words: ents.append({"text": words[0], "type": "ANIMAL"})
    body = json.dumps({"entities": ents})
    if "MALFORMED" in words: return '{"entities": [ {"text": '
    if "PROSE" in words: return f"Sure! I found these entities:\n{body}\nLet me know if you need more."
    return body


class FakeLLM:
    def __init__(self, delay: float = 0.0, json_mode: bool = True, max_requests: int = 2000, max_seconds: float = 300,
                 entity_type: str = "LOC", types_by_word: dict | None = None):
        self.delay, self.json_mode, self.max_requests = delay, json_mode, max_requests
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
                self._send(200, {"requests": dict(outer.requests), "answered": dict(outer.answered)})

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                outer.auth.add(self.headers.get("Authorization", ""))
                sent = re.sub(r"^Sentence: ", "", req["messages"][-1]["content"].split("\n")[0])
                words = sent.split()
                with outer.lock:
                    total = sum(outer.requests.values())
                    outer.requests[sent] += 1
                    n = outer.requests[sent]
                if total >= outer.max_requests:
                    return self._send(503, {"error": {"message": "test server request bound reached"}})
                if "response_format" in req and not outer.json_mode:
                    return self._send(400, {"error": {"message": "response_format is not supported"}})
                if "RATE" in words and n == 1:
                    return self._send(429, {"error": {"message": "rate limited"}}, [("Retry-After", "1")])
                if ("BOOM" in words and n == 1) or "DOWN" in words or ("FLAKY" in words and (req.get("seed") or 0) % 3 == 2):
                    return self._send(500, {"error": {"message": "internal error"}})
                def reply(choices):
                    with outer.lock: outer.answered[sent] += 1
                    self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": req["model"], "choices": choices,
                                     "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})
                if ("EMPTY" in words and n == 1) or ("STUBBORN" in words and n <= 3): return reply([])
                if "NOCONTENT" in words and n == 1:
                    return reply([{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": None}}])
                if "FILTER" in words:
                    return reply([{"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant", "content": None}}])
                if "LENGTH" in words and (req.get("max_tokens") or 0) < 300:
                    return reply([{"index": 0, "finish_reason": "length",
                                   "message": {"role": "assistant", "content": _answer(sent)[:12]}}])
                if "SLOW" in words and n == 1:
                    time.sleep(3)
                if outer.delay: time.sleep(outer.delay)
                content = _answer(sent, req.get("seed"), outer.entity_type, outer.types_by_word)
                with outer.lock: outer.answered[sent] += 1
                self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": req["model"],
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": content}}],
                                 "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._timer = threading.Timer(max_seconds, self.stop)

    def __enter__(self):
        self._thread.start(); self._timer.start(); return self

    def stop(self):
        self.server.shutdown(); self.server.server_close()

    def __exit__(self, *a):
        self._timer.cancel(); self.stop()

