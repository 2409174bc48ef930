"""The bundle as a service: a real `ner-distill-infer --serve` process on 127.0.0.1 (the bundle's own
runtime file, a real exported model) sent what a busy network sends: malformed requests of every kind,
a burst of 256 requests from 64 concurrent clients, requests past their deadline, and SIGTERM in the
middle of a burst."""
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest


def start(bundle, *args):
    "The server in its own process; returns (process, port) once /ready answers 200."
    p = subprocess.Popen([sys.executable, str(bundle / "ner_distill_infer.py"), "--bundle", str(bundle), "--serve", "--port", "0", *args],
                         stderr=subprocess.PIPE, text=True)
    port = int(re.search(r"127\.0\.0\.1:(\d+)", p.stderr.readline()).group(1))
    threading.Thread(target=p.stderr.read, daemon=True).start()      # keep draining its log
    for _ in range(600):
        try:
            if request(port, "GET", "/ready")[0] == 200: return p, port
        except OSError: pass
        time.sleep(0.05)
    p.kill(); raise RuntimeError("server never became ready")


def request(port, method, path, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally: c.close()


def raw(port, data: bytes) -> bytes:
    "Send bytes as they are (what http.client would not send) and read the answer."
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(data); s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536): out += chunk
    return out


def stop(p):
    p.send_signal(signal.SIGTERM)
    return p.wait(30)


JSON = {"Content-Type": "application/json"}


@pytest.mark.slow
def test_every_malformed_request_gets_a_4xx_with_a_json_error(bundle, tmp_path):
    log = tmp_path / "access.jsonl"
    p, port = start(bundle, "--max-bytes", "20000", "--access-log", str(log))
    try:
        cases = {
            "not UTF-8": ("POST", "/predict", b'{"texts": ["caf\xe9"]}', JSON, 400),
            "nested 5,000 deep": ("POST", "/predict", b"[" * 5000 + b"]" * 5000, JSON, 400),
            "texts not a list": ("POST", "/predict", b'{"texts": "Bonn"}', JSON, 400),
            "tokens not lists of strings": ("POST", "/predict", b'{"tokens": [[1, 2]]}', JSON, 400),
            "a list, not an object": ("POST", "/predict", b'["Bonn"]', JSON, 400),
            "no known key": ("POST", "/predict", b'{"txt": "Bonn"}', JSON, 400),
            "empty body": ("POST", "/predict", b"", JSON, 400),
            "not JSON": ("POST", "/predict", b"texts=Bonn", JSON, 400),
            "wrong content type": ("POST", "/predict", b'{"texts": ["Bonn"]}', {"Content-Type": "text/plain"}, 415),
            "no content type": ("POST", "/predict", b'{"texts": ["Bonn"]}', {}, 415),
            "over --max-bytes": ("POST", "/predict", json.dumps({"texts": ["x" * 30000]}).encode(), JSON, 413),
            "unknown path": ("GET", "/nothing", None, {}, 404),
            "unknown method": ("DELETE", "/predict", None, {}, 405),
        }
        for name, (method, path, body, headers, want) in cases.items():
            status, out, _ = request(port, method, path, body, headers)
            assert status == want, (name, status, out[:200])
            assert "error" in json.loads(out), name
        for name, data, want in [("no Content-Length", b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n", 411),
                                 ("garbage request line", b"GARBAGE\r\n\r\n", 400)]:
            out = raw(port, data)
            head, _, body = out.partition(b"\r\n\r\n")
            assert int(head.split()[1]) == want, (name, head[:100])
            assert "error" in json.loads(body), name
        ok = request(port, "POST", "/predict", json.dumps({"texts": ["Peter Blackburn visited Bonn."]}).encode(), JSON)
        assert ok[0] == 200 and json.loads(ok[1])["results"][0]["text"] == "Peter Blackburn visited Bonn."
        assert request(port, "GET", "/health")[0] == 200 and json.loads(request(port, "GET", "/ready")[1])["status"] == "ready"
    finally:
        assert stop(p) == 0
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    assert {l["status"] for l in lines} >= {200, 400, 404, 405, 411, 413, 415} and all("latency_ms" in l for l in lines)
    assert "Bonn" not in log.read_text()          # no request text in the log unless --log-text


@pytest.mark.slow
def test_a_burst_of_256_from_64_clients_ends_in_200s_and_503s_only(bundle):
    p, port = start(bundle, "--max-concurrency", "2", "--max-queue", "4")
    outcomes = []
    body = json.dumps({"texts": ["Shares in Time Warner rose 2% in New York after the AOL deal."]}).encode()
    def client():
        for _ in range(4):
            try: outcomes.append(request(port, "POST", "/predict", body, JSON)[0])
            except Exception as e: outcomes.append(type(e).__name__)
    try:
        ts = [threading.Thread(target=client) for _ in range(64)]
        for t in ts: t.start()
        for t in ts: t.join()
    finally:
        assert stop(p) == 0
    counts = {o: outcomes.count(o) for o in set(outcomes)}
    print("outcomes:", counts)
    assert len(outcomes) == 256 and set(outcomes) <= {200, 503}, counts
    busy = [o for o in outcomes if o == 503]
    assert counts.get(200, 0) > 0 and len(busy) == counts.get(503, 0)


@pytest.mark.slow
def test_a_request_past_its_deadline_gets_504(bundle):
    p, port = start(bundle, "--timeout", "0.001")
    try:
        status, out, _ = request(port, "POST", "/predict", json.dumps({"texts": ["Peter Blackburn visited Bonn. " * 200]}).encode(), JSON)
        assert status == 504 and "error" in json.loads(out)
        assert request(port, "GET", "/health")[0] == 200                     # and the server goes on
    finally:
        assert stop(p) == 0


@pytest.mark.slow
def test_sigterm_during_a_burst_answers_every_accepted_request(bundle, tmp_path):
    """32 clients send requests back to back, SIGTERM arrives in the middle: every request the server read (its access
    log has a line for each) got its response (200 before, 503 while draining), and the process exits 0. A connection
    the server never accepted (still in the kernel's queue when the listener closed) is refused or reset without a
    request being read: those are counted apart."""
    log = tmp_path / "access.jsonl"
    p, port = start(bundle, "--max-concurrency", "2", "--max-queue", "64", "--access-log", str(log))
    outcomes, lock, go = [], threading.Lock(), threading.Event()
    body = json.dumps({"texts": ["Peter Blackburn met European Commission officials in Brussels on Monday."] * 8}).encode()
    def client():
        while not go.is_set():
            try: o = request(port, "POST", "/predict", body, JSON)[0]
            except ConnectionRefusedError: o = "refused"
            except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError): o = "reset"
            with lock: outcomes.append(o)
            if o in ("refused", "reset"): return
    ts = [threading.Thread(target=client) for _ in range(32)]
    for t in ts: t.start()
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    assert p.wait(30) == 0
    go.set()
    for t in ts: t.join(30)
    counts = {o: outcomes.count(o) for o in set(outcomes)}
    answered = [json.loads(l)["status"] for l in log.read_text().splitlines() if json.loads(l)["path"] == "/predict"]
    print("client outcomes:", counts, "server answered:", len(answered))
    assert set(outcomes) <= {200, 503, "refused", "reset"}, counts
    assert counts.get(200, 0) > 0 and counts.get(503, 0) > 0
    assert sorted(answered) == sorted(o for o in outcomes if isinstance(o, int))   # every request read got its answer


@pytest.mark.slow
def test_a_refusal_is_held_for_its_retry_after_and_costs_no_model_time(bundle, tmp_path):
    """One model slot, no queue: a request arriving while the slot is busy gets its 503 only after `--busy-delay`
    (a client told to retry at once would otherwise resend at once, and under overload the process would spend its
    cores refusing), with `Retry-After`; the request in the slot is answered as usual."""
    log = tmp_path / "access.jsonl"
    p, port = start(bundle, "--max-concurrency", "1", "--max-queue", "0", "--busy-delay", "0.6", "--access-log", str(log))
    slow = json.dumps({"texts": ["Peter Blackburn visited Bonn. " * 60] * 24}).encode()
    first = []
    try:
        t = threading.Thread(target=lambda: first.append(request(port, "POST", "/predict", slow, JSON)[0])); t.start()
        time.sleep(0.05)
        t0 = time.perf_counter()
        status, out, headers = request(port, "POST", "/predict", json.dumps({"text": "Bonn"}).encode(), JSON)
        waited = time.perf_counter() - t0
        t.join()
    finally:
        assert stop(p) == 0
    assert first == [200]
    assert status == 503 and "busy" in json.loads(out)["error"] and headers["Retry-After"] == "1"
    assert waited >= 0.6 * 0.8 - 0.01, waited           # held 0.6 s, spread by +-20 %
    busy = [r for r in map(json.loads, log.read_text().splitlines()) if r["status"] == 503 and r["path"] == "/predict"]
    assert len(busy) == 1 and busy[0]["latency_ms"] >= 470


@pytest.mark.slow
def test_connections_past_the_limit_wait_in_the_backlog_not_refused(bundle):
    """`--max-connections 1`: while one keep-alive connection is open, a second is left in the kernel's listen backlog
    (no thread, no parsing) and is answered as soon as the first closes."""
    p, port = start(bundle, "--max-connections", "1")
    body = json.dumps({"text": "Peter Blackburn visited Bonn."}).encode()
    req = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    try:
        a = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        a.request("POST", "/predict", body, JSON); r = a.getresponse(); assert r.status == 200; r.read()   # A stays open
        b = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        b.sendall(req)
        with pytest.raises(socket.timeout): b.recv(1)          # not answered while A holds the only connection
        a.close()
        b.settimeout(30)
        assert b.recv(64).startswith(b"HTTP/1.1 200")
        b.close()
    finally:
        assert stop(p) == 0
