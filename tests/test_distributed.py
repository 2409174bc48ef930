"""The bundle on Ray Data: a local Ray cluster of two workers on 127.0.0.1 tags 1,500 real BBC sentences stored as
Parquet parts (one with a binary text column, one that is not Parquet at all) with a real exported bundle, and gives
exactly the entities of the single-process runtime, with the bundle loaded once per worker and bad rows reported."""
import json

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ner_distill import data, infer
from ner_distill.distributed import tag_parts

pytestmark = pytest.mark.xdist_group("ray")   # Ray's tests run on one xdist worker, one after the other


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory):
    """A bundle that finds entities: a 3-layer MiniLM trained 30 steps on 256 gold CoNLL-2003 sentences, exported with
    optimum (fp32 and int8, no wheelhouse). The session's `bundle` (8 steps) tags no entity in BBC text, so comparing
    its output would compare empty lists; this one tags about 1.5 per sentence."""
    from ner_distill.export import export_bundle
    from ner_distill.train import TrainConfig, train
    root = tmp_path_factory.mktemp("distributed")
    train(TrainConfig(strategy="gold", gold_size=256, distilled="none", steps=30, batch_size=16, layers=3, evals=1,
                      select_dev_size=50, dev_size=50, test=False, out=str(root / "run")), progress=False)
    return export_bundle(root / "run", root / "export", "small", limit=60, wheelhouse=False, pack=False,
                         candidates=["int8"], speed_rounds=1)


@pytest.fixture
def ray_cluster():
    "A local Ray of 2 CPUs on 127.0.0.1, no dashboard, a small object store; shut down after the test."
    import ray
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", object_store_memory=200 * 2**20,
             log_to_driver=False)
    try: yield ray
    finally: ray.shutdown()


@pytest.mark.slow
def test_ray_tags_parts_as_the_runtime_does(small_bundle, ray_cluster, tmp_path):
    texts = [" ".join(s.tokens) for s in data.bbc_sentences(1500, seed=3)]
    rows = [dict(id=i, text=t) for i, t in enumerate(texts)]
    rows += [dict(id=1500, text=""), dict(id=1501, text=None)]               # empty: no entity; null: an error
    archive = tmp_path / "archive"
    (archive / "2026").mkdir(parents=True)
    k = 200
    for p in range(7):                                                        # string columns
        pq.write_table(pa.Table.from_pylist(rows[p * k:(p + 1) * k]), archive / "2026" / f"part-{p:05d}.parquet")
    last = rows[7 * k:]                                                       # a binary column, one value not UTF-8
    binary = [None if r["text"] is None else r["text"].encode() for r in last] + [b"Bonn caf\xe9"]
    pq.write_table(pa.table({"id": [r["id"] for r in last] + [1502], "text": pa.array(binary, pa.binary())}),
                   archive / "2026" / "part-00007.parquet")
    (archive / "2026" / "part-00008.parquet").write_bytes(b"not parquet")  # a part that cannot be read
    (archive / "_SUCCESS").write_text("")                                     # not data

    out = tmp_path / "tagged"
    summary = tag_parts(archive, out, small_bundle, "default", workers=2, threads=1, rows=64)   # chosen once, here

    # one output part per input part, under the same relative path; the unreadable one reported, not fatal
    assert [Path(s["out"]).relative_to(out.resolve()).as_posix() for s in summary] == [f"2026/part-{p:05d}.parquet" for p in range(9)]
    assert [bool(s["failed"]) for s in summary] == [False] * 8 + [True]
    assert "part-00008.parquet" in summary[8]["part"] and not (out / "2026" / "part-00008.parquet").exists()
    v = json.loads((out / "_tagging.json").read_text())["variant"]
    assert v in ("fp32", "int8")

    # the bundle loaded once per worker: two loads for eight parts tagged by two workers
    loads = [json.loads(p.read_text()) for p in (out / "_workers").iterdir()]
    assert len(loads) == 2 and len({x["pid"] for x in loads}) == 2
    assert {s["worker"] for s in summary} == {x["worker"] for x in loads}
    assert all(x["variant"] == v and x["threads"] == 1 for x in loads)

    # the same entities as the single-process runtime on the same rows, in other batches: the default variant is batch-invariant
    got = {r["id"]: r for p in range(8) for r in pq.read_table(out / "2026" / f"part-{p:05d}.parquet").to_pylist()}
    assert sorted(got) == list(range(1503))
    want = infer.Bundle(small_bundle, v, threads=2).predict_texts(texts, batch_size=128)
    assert sum(len(w["entities"]) for w in want) > 1000
    assert [got[i]["entities"] for i in range(1500)] == [w["entities"] for w in want]
    assert all(got[i]["error"] is None for i in range(1501))
    assert pq.read_schema(out / "2026" / "part-00007.parquet").field("text").type == pa.binary()

    # bad rows: reported in their row, with the part and the row
    assert (got[1500]["entities"], got[1500]["error"]) == ([], None)
    assert got[1501]["entities"] is None and got[1501]["error"].endswith("part-00007.parquet row 101: text is null")
    assert got[1502]["error"].endswith("row 102: text is not valid UTF-8: byte 0xe9 at byte 8")
    assert sum(s["errors"] for s in summary) == 2 and sum(s["rows"] for s in summary) == 1503

    # a rerun skips the finished parts and retries the failed one
    again = tag_parts(archive, out, small_bundle, "default", workers=2, threads=1)
    assert [bool(s.get("skipped")) for s in again] == [True] * 8 + [False]
