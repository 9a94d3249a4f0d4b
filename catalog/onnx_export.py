"""Derive an int8 ONNX model from a sentence-transformers BERT model: export, fuse, quantise, check.

The recipe, and why (figures in benchmarks/RESULTS.md, "Embedding backends (scale issue)"):

1. ``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``: the torch.export-based one
   needs the extra ``onnxscript`` package, and onnxruntime's BERT fusion recognises the TorchScript
   graph). The exported module takes only ``input_ids``: the embedder feeds batches whose texts all
   have the same number of word pieces, so there is no padding, no attention mask and no token
   types. BertModel runs with eager attention (the fuser does not recognise the SDPA graph), and
   mean pooling and L2 normalisation are in the graph, so a run returns the final vectors.
2. ``onnxruntime.transformers.optimizer`` (model type bert) fuses embeddings + layer norm,
   attention, bias + GELU and skip + layer norm; attention is fused without a mask, whose kernel
   is the faster one.
3. ``onnxruntime.quantization.quantize_dynamic``: weights int8 per output channel (per-tensor
   weights lost too much: mean cosine 0.94 to fp32 on SciFact), activations quantised per batch at
   run time.
4. A check: vectors of a few texts of different lengths against the torch model's; the build fails
   if any cosine is below ``MIN_CHECK_COSINE``, so a broken export never lands in the cache.

``optimum`` is not used: it pins an older transformers that breaks sentence-transformers 6.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from catalog.errors import MissingDependency, SynthcatError
from catalog.model_cache import directory_sha256

# Bump when anything below changes what the built model file contains.
RECIPE_VERSION = "1"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
OPSET = 17
MIN_CHECK_COSINE = 0.95
CHECK_TEXTS = (
    "How do I change my wifi password?",
    "Evening drops usually mean congestion; restart the router and we will check the line tonight.",
    " ".join(["Alterations of the architecture of cerebral white matter in the developing human brain can "
              "affect cortical development and result in functional disabilities."] * 12),  # > 256 pieces
)


def import_onnxruntime():
    """onnxruntime, or :class:`MissingDependency` with the install command."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingDependency("the int8 embedder needs onnxruntime: pip install onnxruntime onnx") from exc
    return onnxruntime


def read_source(source: Path) -> dict:
    """What the recipe needs to know about a sentence-transformers model directory; refuses others."""
    try:
        config = json.loads((source / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SynthcatError(f"{source} is not a sentence-transformers model directory: {exc}") from None
    pooling_dirs = [m.get("path", "") for m in modules if str(m.get("type", "")).endswith(".Pooling")]
    pooling = {}
    if pooling_dirs:
        with contextlib.suppress(OSError, ValueError):
            pooling = json.loads((source / pooling_dirs[0] / "config.json").read_text(encoding="utf-8"))
    normalised = any(str(m.get("type", "")).endswith(".Normalize") for m in modules)
    if config.get("model_type") != "bert" or not pooling.get("pooling_mode_mean_tokens") or not normalised:
        raise SynthcatError(f"the int8 recipe handles BERT models with mean pooling and normalisation; "
                            f"{source} is a {config.get('model_type')!r} model")
    if not (source / TOKENIZER_FILE).is_file():
        raise SynthcatError(f"{source} has no {TOKENIZER_FILE} (a fast tokenizer is needed)")
    max_len = config.get("max_position_embeddings", 512)
    with contextlib.suppress(OSError, ValueError):
        st_config = json.loads((source / "sentence_bert_config.json").read_text(encoding="utf-8"))
        max_len = min(max_len, int(st_config.get("max_seq_length") or max_len))
    return {"dimension": int(config["hidden_size"]), "num_heads": int(config["num_attention_heads"]),
            "num_layers": int(config["num_hidden_layers"]), "max_seq_length": int(max_len)}


def version_key(source: Path) -> str:
    """Cache version of the int8 model of ``source``: recipe, source files' hash, onnxruntime version.

    The onnxruntime version is part of it because the fused and quantised operators are its own.
    """
    ort = import_onnxruntime()
    return f"r{RECIPE_VERSION}-{directory_sha256(source)[:16]}-ort{ort.__version__}"


@contextlib.contextmanager
def _step(what: str) -> Iterator[None]:
    """Turn any failure inside into a SynthcatError saying which step of the build failed."""
    try:
        yield
    except SynthcatError:
        raise
    except Exception as exc:  # noqa: BLE001 - any library failure is reported with the step's name
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SynthcatError(f"building the int8 embedder failed while {what}: "
                            f"{exc.__class__.__name__}: {detail}"[:500]) from exc


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' and quantiser's warnings (tracer notes, 'consider pre-processing')."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


def _pooled_module(source: Path):
    """BertModel with mean pooling and L2 normalisation, taking ``input_ids`` only (no padding)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class PooledBert(torch.nn.Module):
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                               token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            return torch.nn.functional.normalize(hidden.mean(dim=1), p=2.0, dim=1)

    return PooledBert(model).eval()


def _check_ids(source: Path, max_seq_length: int) -> list[np.ndarray]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source / TOKENIZER_FILE))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_seq_length)
    batches = [np.asarray([tokenizer.encode(t).ids], dtype=np.int64) for t in CHECK_TEXTS]
    batches.append(np.repeat(batches[-1], 2, axis=0))  # a batch of two
    return batches


def build_int8_onnx(source: Path, out: Path) -> dict:
    """Write ``model.onnx`` (int8) and ``tokenizer.json`` into ``out``; return facts for the manifest."""
    ort = import_onnxruntime()
    info = read_source(source)
    work = out / "_work"
    work.mkdir()
    exported, fused = work / "exported.onnx", work / "fused.onnx"
    with _quiet():
        with _step("loading the model with transformers"):
            import torch

            module = _pooled_module(source)
        with _step("exporting to ONNX (torch.onnx.export)"):
            example = torch.ones((2, 16), dtype=torch.long)
            torch.onnx.export(module, (example,), str(exported), input_names=["input_ids"],
                              output_names=["embedding"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
                              opset_version=OPSET, do_constant_folding=True, dynamo=False)
        with _step("fusing the graph (onnxruntime.transformers.optimizer)"):
            from onnxruntime.transformers import optimizer
            from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions

            options = FusionOptions("bert")
            options.attention_mask_format = AttentionMaskFormat.NoMask
            optimized = optimizer.optimize_model(str(exported), model_type="bert", num_heads=info["num_heads"],
                                                 hidden_size=info["dimension"], opt_level=0,
                                                 optimization_options=options)
            fusions = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
            optimized.save_model_to_file(str(fused))
            del optimized
        with _step("quantising to int8 (onnxruntime.quantization.quantize_dynamic)"):
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fused), str(out / MODEL_FILE), per_channel=True, reduce_range=False,
                             weight_type=QuantType.QInt8,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        with _step("checking the int8 model against the original"):
            session = ort.InferenceSession(str(out / MODEL_FILE), providers=["CPUExecutionProvider"])
            cosines = []
            with torch.inference_mode():
                for ids in _check_ids(source, info["max_seq_length"]):
                    want = module(torch.from_numpy(ids)).numpy()
                    got = session.run(None, {"input_ids": ids})[0]
                    cosines.extend((want * got).sum(axis=1).tolist())
            del session
    if min(cosines) < MIN_CHECK_COSINE:
        raise SynthcatError(f"building the int8 embedder failed: its vectors differ from the original model's "
                            f"(cosine {min(cosines):.3f} < {MIN_CHECK_COSINE})")
    shutil.copyfile(source / TOKENIZER_FILE, out / TOKENIZER_FILE)
    shutil.rmtree(work)
    import onnx
    import transformers

    return {**info, "recipe": RECIPE_VERSION, "source": str(source), "fusions": fusions,
            "check_min_cosine": round(min(cosines), 5),
            "built_with": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "onnx": onnx.__version__, "onnxruntime": ort.__version__}}
