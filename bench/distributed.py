"""The bundle on Ray Data against the single-process runtime, in the same run: 10,000 BBC sentences as raw text in
20 Parquet parts, tagged by `ner_distill.distributed.tag_parts` on a local Ray of 2 CPUs (1 worker of 1 thread, 2
workers of 1 thread, 1 worker of 2 threads) and by the runtime's `Bundle.predict_texts` in this process (1 and 2
threads) on the same rows, in alternating passes, the best pass of each kept. Run it alone on an idle machine.

    python bench/distributed.py [--bundle export/demo] [--variant default] [--sentences 10000] [--rounds 2]
"""
import argparse
import shutil
import tempfile
import time
from pathlib import Path

import ray

from _common import ROOT, command, machine, write_section
from ner_distill import data, infer, speed, sweep_tables
from ner_distill.distributed import tag_parts

p = argparse.ArgumentParser()
p.add_argument("--bundle", default=str(ROOT / "export" / "demo"))
p.add_argument("--variant", default="default", help="the model variant (default: the manifest's choice for this CPU)")
p.add_argument("--sentences", type=int, default=10_000)
p.add_argument("--parts", type=int, default=20)
p.add_argument("--rounds", type=int, default=2, help="alternating passes of every system; the best of each is kept")
a = p.parse_args()
bundle = Path(a.bundle).resolve()
variant, why = infer.bundle_variant(infer.verify_bundle(bundle), a.variant)

texts = [" ".join(s.tokens) for s in data.bbc_sentences(a.sentences)]
words = sum(len(infer.split_words(t)) for t in texts)
work = Path(tempfile.mkdtemp(prefix="bench-distributed-"))
speed.text_parts(texts, work / "in", a.parts)

t0 = time.perf_counter()
ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", object_store_memory=200 * 2**20, log_to_driver=False)
ray_start = time.perf_counter() - t0

single = {t: infer.Bundle(bundle, variant, threads=t) for t in (1, 2)}
for b in single.values(): b.predict_texts(texts[:64])                      # warm-up
systems = {"runtime, one process, 1 thread": ("single", 1, 1), "runtime, one process, 2 threads": ("single", 1, 2),
           "Ray Data, 1 worker x 1 thread": ("ray", 1, 1), "Ray Data, 2 workers x 1 thread": ("ray", 2, 1),
           "Ray Data, 1 worker x 2 threads": ("ray", 1, 2)}
reference = []                                                              # the first single-process pass's entities


def job(kind, workers, threads):
    def one_pass():
        if kind == "single": return single[threads].predict_texts(texts)
        shutil.rmtree(work / "out", ignore_errors=True)
        return tag_parts(work / "in", work / "out", bundle, variant, workers=workers, threads=threads)
    return one_pass


def after(name, summary, wall):
    "A Ray job's best pass (`speed.ray_pass`): its seconds inside the parts and outside them, its bundle loads; its entities checked."
    kind, workers, _ = systems[name]
    if kind == "single":
        if not reference: reference.extend(x["entities"] for x in summary)
        return None
    # int8's dynamic quantisation depends on the other rows of a batch: its entities are not compared
    return speed.ray_pass(summary, wall, work / "out", workers, len(texts), words, reference if variant == "fp32" else None)


best, kept = speed.best_passes({n: job(*s) for n, s in systems.items()}, words, a.rounds, after)
ray.shutdown()
shutil.rmtree(work, ignore_errors=True)
ray_jobs = {n: k for n, k in kept.items() if k}
inside, loads = {n: k[0] for n, k in ray_jobs.items()}, {n: k[2] for n, k in ray_jobs.items()}
print(write_section("distributed", head=f"`{command()}` on {machine()}", bundle=bundle.name, variant=variant, why=why,
                    sentences=len(texts), words=words, parts=a.parts, rounds=a.rounds, ray_start=ray_start, ray=ray.__version__,
                    table=sweep_tables.to_markdown(speed.ray_table(best, systems, inside, loads)),
                    compared="each Ray system's best pass gave exactly the single-process runtime's entities on every row"
                    if variant == "fp32" else "entities not compared (int8's dynamic quantisation depends on a row's batch-mates)",
                    f=speed.ray_figures(best, inside, {n[10:]: k[1] for n, k in ray_jobs.items()}, "Ray Data, 1 worker x 1 thread",
                                        "Ray Data, 2 workers x 1 thread", "runtime, one process, 1 thread", "runtime, one process, 2 threads")))
