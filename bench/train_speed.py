"""Training speed: a strategy run against the plain reference loop, in one process, one after the other, on
the same sentences (the strategy study's pools: 5,873 gpt-3.5-labelled + 1,000 gold CoNLL-2003 sentences).

* reference: a plain loop (forward, backward, AdamW), MiniLM-L6 unfrozen, batches of 32 sorted by length over
  the whole pool (the best case for padding), the same number of steps as the strategy run;
* the strategy run (`train()`, power_decay, 247 steps) as it was before length bucketing (random batches run
  as length-sorted micro-batches of 16) and as it is now (bucketed batches of similar length), each with its
  profile: where a step's time goes (building tensors, forward, backward, optimizer, bookkeeping), evaluation;
* the options users expect, each with its speed and dev F1: frozen word embeddings; a larger batch (64) at
  twice the learning rate (the same sentences, half the steps); 4 and 3 of the 6 layers.

Sentences/s = training sentences / wall time of the training steps (start-up and evaluation excluded); the
whole run's wall time is beside it. Run it alone on an idle machine.

    python bench/train_speed.py [--steps 247] [--skip-options]
"""
import argparse
import json
import random
import time
from pathlib import Path

from _common import ROOT, command, machine, write_section
from ner_distill import data
from ner_distill.student import collate, encode, resolve_model, token_loss
from ner_distill.train import TrainConfig, build_pools, train

p = argparse.ArgumentParser()
p.add_argument("--skip-options", action="store_true")
p.add_argument("--out", default=str(ROOT / "runs" / "train-speed"))
p.add_argument("--fresh", action="store_true", help="delete earlier runs first (a timing needs runs of this code)")
a = p.parse_args()
OUT = Path(a.out)
if a.fresh:
    import shutil
    shutil.rmtree(OUT, ignore_errors=True)


def reference_loop(sentences, tags, steps, batch=32, lr=4e-4, seed=0):
    "The plain loop: length-sorted batches of 32 over the whole pool, forward, backward, AdamW."
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    torch.manual_seed(seed)
    path = resolve_model("minilm")
    tok = AutoTokenizer.from_pretrained(path)
    labels = data.CONLL2003.labels
    enc, _ = encode(tok, sentences, tags, 128, None, {l: i for i, l in enumerate(labels)})
    enc.sort(key=lambda e: len(e.input_ids))
    batches = [enc[i:i + batch] for i in range(0, len(enc), batch)]
    random.Random(seed).shuffle(batches)
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=len(labels))
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    n, t0 = 0, time.perf_counter()
    for step in range(steps):
        b = batches[step % len(batches)]
        x = collate(b, tok.pad_token_id)
        loss = token_loss(model(input_ids=x["input_ids"], attention_mask=x["attention_mask"]).logits, x["labels"])
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        n += len(b)
    return n / (time.perf_counter() - t0), time.perf_counter() - t0


def run(name, **kw):
    cfg = TrainConfig(strategy="power_decay", gold_size=1000, distilled="recorded", test=False, out=str(OUT / name), **kw)
    t0 = time.perf_counter()
    m = train(cfg, progress=False)
    return m, time.perf_counter() - t0


import torch  # noqa: E402
threads = torch.get_num_threads()
D, O = build_pools(TrainConfig(gold_size=1000, distilled="recorded"))
pool = list(D) + list(O)
S = 247
ref_sps, ref_wall = reference_loop([s.tokens for s in pool], [s.tags for s in pool], S)
rows = []
configs = [("before: random batches as micro-batches of 16, all weights trained", dict(bucket_steps=1, micro_batch_size=16, freeze_embeddings=False)),
           ("now, the defaults: bucketed over 16 steps, one pass per batch, word embeddings frozen", dict())]
if not a.skip_options:
    configs += [("the defaults, word embeddings trained", dict(freeze_embeddings=False)),
                ("the defaults, bucketed over 8 steps", dict(bucket_steps=8)),
                ("the defaults, batch 64 at lr 8e-4 (half the steps)", dict(batch_size=64, lr=8e-4)),
                ("the defaults, 4 of 6 layers", dict(layers=4)),
                ("the defaults, 3 of 6 layers", dict(layers=3))]
for i, (label, kw) in enumerate(configs):
    m, wall = run(f"run{i}", **kw)
    rows.append((label, m, wall))
    print(label, m["timing"]["train_sentences_per_s"], m["dev"]["f1"], flush=True)

parts = ("batch_s", "forward_s", "backward_s", "optimizer_s", "bookkeeping_s")
def profile(m):
    t = m["timing"]; tot = t["train_s"]
    return " / ".join(f"{100 * t[k] / tot:.0f}" for k in parts) + f" | {t['eval_s']:.0f} s"
lines = [f"| {l} | {m['steps']} | **{m['timing']['train_sentences_per_s']:.1f}** | {m['timing']['train_sentences_per_s'] / ref_sps:.2f}x | "
         f"{100 * m['dev']['f1']:.1f} | {profile(m)} | {wall / 60:.1f} min |" for l, m, wall in rows]
write_section("train-speed", f"""## Training speed: strategy runs against the plain loop (`bench/train_speed.py`)

`{command()}` on {machine()}, {threads} torch threads; every row measured in the same process, one after
another, on the same sentences: the strategy study's pools (5,873 gpt-3.5-labelled and 1,000 gold CoNLL-2003
train sentences), MiniLM-L6, AdamW. Sentences/s = training sentences divided by the wall time of the
training steps (start-up and evaluation excluded); dev F1 on the whole CoNLL-2003 dev set, checkpoint chosen
on its first 1,000 sentences.

Reference, the plain loop (unfrozen, batches of 32 sorted by length over the whole pool, {S} steps):
**{ref_sps:.1f} sentences/s** ({ref_wall:.0f} s).

| `power_decay` run | steps | sentences/s | vs reference | dev F1 | profile: % of step time in tensors / forward / backward / optimizer / bookkeeping, and evaluation | whole run |
|---|---|---|---|---|---|---|
{chr(10).join(lines)}

AdamW is torch's fused implementation in the strategy runs (one kernel; 6x faster than the default per step here) and
torch's default in the reference loop, as the reference is defined: a plain loop. The first run of this script, before AdamW was fused in the strategy runs (same machine, same code otherwise): reference
104.0, before 63.4, bucketed over 8 steps 85.1 sentences/s, the optimizer then 9-12 % of a step. The profile comes from timers in the training loop (`metrics.json`, `timing`). Mixed precision (`mixed_precision=bf16|fp16`,
through accelerate) is for GPUs; no GPU was lent to this machine, so it is untested here.
""")
print(json.dumps({"reference": ref_sps, **{l: m["timing"]["train_sentences_per_s"] for l, m, _ in rows}}, indent=1))
