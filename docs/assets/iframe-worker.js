// Web Workers for pages opened from the file system (build/site/index.html opened by hand, on a machine with no
// network). The site's search runs in a Worker, and Chromium refuses `new Worker(url)` on a file:// page. There, and
// only there, `Worker` becomes one that runs the worker's script in a hidden iframe of the page: messages go both ways
// as "message" events (each side gets its own copy, as with a real Worker), and importScripts loads scripts in order.
// mkdocs.yml lists this file under `extra.polyfills`; its name holds "iframe-worker", so mkdocs-material's offline
// plugin adds no shim of its own from the network.
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this._queue = [];
      const src = new URL(url, document.baseURI).href;
      const frame = this._frame = document.createElement("iframe");
      frame.setAttribute("aria-hidden", "true");
      frame.style.display = "none";
      (document.body || document.documentElement).appendChild(frame);
      const w = this._window = frame.contentWindow;
      const doc = frame.contentDocument;
      w.postMessage = (data) => this._emit("message", { data: structuredClone(data) });
      w.close = () => this.terminate();
      w.importScripts = (...urls) => urls.reduce((done, u) => done.then(() => this._load(doc, new URL(u, src).href)),
                                                 Promise.resolve());
      w.addEventListener("error", (e) => this._emit("error", { message: e.message, error: e.error }));
      this._load(doc, src).then(() => {
        const queued = this._queue;
        this._queue = null;
        queued.forEach((data) => this._deliver(data));
      }, () => this._emit("error", { message: `cannot load ${src}` }));
    }

    _load(doc, href) {
      return new Promise((resolve, reject) => {
        const s = doc.createElement("script");
        s.src = href;
        s.onload = resolve;
        s.onerror = reject;
        (doc.head || doc.documentElement).appendChild(s);
      });
    }

    _emit(type, init) {
      const e = type === "message" ? new MessageEvent("message", init) : new ErrorEvent("error", init);
      this.dispatchEvent(e);
      const handler = type === "message" ? this.onmessage : this.onerror;
      if (typeof handler === "function") handler.call(this, e);
    }

    _deliver(data) {
      const w = this._window;
      if (w) w.dispatchEvent(new w.MessageEvent("message", { data: w.structuredClone(data) }));
    }

    postMessage(data) {
      if (this._queue) this._queue.push(data);
      else this._deliver(data);
    }

    terminate() {
      if (this._frame) this._frame.remove();
      this._frame = this._window = null;
      this._queue = null;
    }
  }

  window.IFrameWorker = FileWorker;   // the search worker reads this name to find its language scripts from an iframe
  window.Worker = FileWorker;
})();
