#!/usr/bin/env python3
"""Embed a JSON-lines corpus with bertcpp.SentenceTransformer on a Dask distributed cluster, writing Parquet.

    # a local cluster of 2 worker processes (1 thread each; every worker's model uses --threads OpenMP threads)
    python embed_corpus_dask.py --model models/cache/all-MiniLM-L6-v2 --input corpus.jsonl --output out/ \
        --local-workers 2

    # an existing cluster (dask scheduler / dask worker on each node): the same command with its address
    python embed_corpus_dask.py --model /shared/all-MiniLM-L6-v2 --input /shared/corpus.jsonl \
        --output /shared/embeddings/ --scheduler tcp://head:8786

How it scales out. The client streams the corpus in blocks of whole lines (--lines-per-block); each block is one
task that parses its lines, embeds them in batches and writes one Parquet file (part-00000.parquet, ...: columns
`line` - the 0-based line number in the input -, `id` - the record's --id-field if any, else the line number -,
`embedding` - float32[H]). The model travels to the workers as a pickled
bertcpp.SentenceTransformer, which is its directory and options: a Dask WorkerPlugin unpickles (loads) it once
per worker process, and every task on that worker uses that one immutable, thread-safe model. On a multi-node
cluster the model directory and the output directory must be on storage every node sees at the same path (NFS,
a bind mount, ...); the input is read by the client only.
"""

import argparse
import json
import os
import sys

PLUGIN_NAME = "bertcpp-sentence-transformer"


from distributed.diagnostics.plugin import WorkerPlugin  # noqa: E402


class ModelPlugin(WorkerPlugin):
    """A Dask worker plugin that holds one bertcpp.SentenceTransformer per worker process.

    Pickled on the client with the model object inside; the pickle is the model's directory and options, so a
    worker loads the model when it receives the plugin (setup), not per task."""

    name = PLUGIN_NAME

    def __init__(self, model):
        self.model = model

    def setup(self, worker):
        worker.bertcpp_model = self.model

    def teardown(self, worker):
        worker.bertcpp_model = None


def embed_block(lines, block, first_line, output, text_field, id_field, batch_size):
    """Embeds one block of JSON lines and writes output/part-<block>.parquet; returns (path, rows, worker)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from distributed import get_worker

    worker = get_worker()
    model = worker.bertcpp_model
    records = [json.loads(line) for line in lines if line.strip()]
    texts = [r[text_field] for r in records]
    embeddings = model.encode(texts, batch_size=batch_size) if texts else np.zeros((0, 0), np.float32)
    line_numbers = np.arange(first_line, first_line + len(records), dtype=np.int64)
    ids = [str(r[id_field]) for r in records] if id_field else [str(n) for n in line_numbers]
    dim = embeddings.shape[1] if len(texts) else 0
    table = pa.table({
        "line": pa.array(line_numbers),
        "id": pa.array(ids, pa.string()),
        "embedding": pa.FixedSizeListArray.from_arrays(pa.array(embeddings.reshape(-1), pa.float32()), dim),
    })
    path = os.path.join(output, f"part-{block:05d}.parquet")
    pq.write_table(table, path)
    return path, len(records), worker.address


def line_blocks(path, lines_per_block):
    """Splits a JSON-lines file into blocks of whole lines: (first line number, lines). Streams the file."""
    block, first = [], 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if not block:
                first = n
            block.append(line)
            if len(block) == lines_per_block:
                yield first, block
                block = []
    if block:
        yield first, block


def run(model_dir, input_path, output, client, text_field="text", id_field=None, batch_size=32,
        lines_per_block=256, threads=1, compute="fp32", timeout=None):
    """Embeds input_path into output/ on the cluster behind `client`; returns (rows written, {worker: tasks}).
    timeout: seconds to wait for all blocks (None: no limit); distributed.TimeoutError past it."""
    from distributed import wait

    import bertcpp

    os.makedirs(output, exist_ok=True)
    if __name__ != "__main__":
        # Imported (e.g. by the test) rather than run as a script: the plugin and the task function are pickled by
        # reference to this module, so the workers need to import it. (Run as a script, they travel by value.)
        client.upload_file(os.path.abspath(__file__))
    model = bertcpp.SentenceTransformer(model_dir, threads=threads, compute=compute)
    client.register_plugin(ModelPlugin(model), name=PLUGIN_NAME)
    futures = []
    for block, (first, lines) in enumerate(line_blocks(input_path, lines_per_block)):
        # Each block is sent once, to the worker that runs it; the model is already there.
        futures.append(client.submit(embed_block, lines, block, first, os.path.abspath(output), text_field, id_field,
                                     batch_size, pure=False))
    wait(futures, timeout=timeout)
    rows, tasks_of = 0, {}
    for _path, n, worker in client.gather(futures):
        rows += n
        tasks_of[worker] = tasks_of.get(worker, 0) + 1
    return rows, tasks_of


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="a sentence-transformers model directory")
    p.add_argument("--input", required=True, help="JSON lines, one record per line")
    p.add_argument("--output", required=True, help="directory for part-*.parquet")
    p.add_argument("--text-field", default="text")
    p.add_argument("--id-field", default=None, help="record field copied to the `id` column (default: line number)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lines-per-block", type=int, default=256, help="lines per task / Parquet file")
    p.add_argument("--threads", type=int, default=1, help="OpenMP threads of each worker's model")
    p.add_argument("--compute", default="fp32", choices=["fp32", "int8", "bf16"])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://head:8786")
    where.add_argument("--local-workers", type=int, help="start a LocalCluster of this many worker processes")
    args = p.parse_args(argv)

    from distributed import Client, LocalCluster

    if args.scheduler:
        client, cluster = Client(args.scheduler), None
    else:
        cluster = LocalCluster(n_workers=args.local_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        rows, tasks_of = run(args.model, args.input, args.output, client, args.text_field, args.id_field, args.batch_size,
                   args.lines_per_block, args.threads, args.compute)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(f"{rows} embeddings written to {args.output} by {len(tasks_of)} workers {sorted(tasks_of.values())}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
