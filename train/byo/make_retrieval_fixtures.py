"""Tiny random-weight CLIP and SigLIP folders in the Hugging Face ONNX layouts users bring for search.

Usage (GPU machine or any host with torch, transformers, onnx, onnxruntime, tokenizers, numpy):
    python3 train/byo/make_retrieval_fixtures.py OUT_DIR [--layers 1] [--with-combined] [--with-quantized]

Writes two folders laid out as transformers.js / Xenova exports are. What the repository keeps is the default
(1 layer per tower, the towers only: about 180 KB per folder; the tracked tree has a size budget,
test/repo/weight.test.ts). The combined model.onnx and the quantized CLIP towers are always exported and
checked (their figures go into reference.json), and kept only with --with-combined / --with-quantized.
Every graph is compacted (intermediate tensors renamed t0, t1, ..., node names, doc strings and value_info
dropped: the same computation in fewer bytes) before it is checked.

  OUT_DIR/tiny-random-clip-hf/
    config.json                 CLIPConfig (model_type "clip"): hidden 32, 1 layer, image 32x32, patch 8, projection 16
    preprocessor_config.json    CLIPImageProcessor: shortest_edge 32, centre crop 32x32, CLIP mean/std
    tokenizer.json              byte-level BPE trained here; "<|startoftext|> $A <|endoftext|>"
    tokenizer_config.json       model_max_length 32, pad_token "<|endoftext|>"
    onnx/vision_model.onnx      pixel_values [N,3,32,32] -> image_embeds [N,16], last_hidden_state
    onnx/text_model.onnx        input_ids, attention_mask [B,T] -> text_embeds [B,16], last_hidden_state
    onnx/model.onnx             input_ids, pixel_values, attention_mask -> logits_per_image, logits_per_text,
                                text_embeds, image_embeds (both L2-normed), as optimum exports CLIPModel
    onnx/*_quantized.onnx       the towers through onnxruntime's quantize_dynamic (uint8 weights), if it works
    reference.json              PyTorch outputs (below)

  OUT_DIR/tiny-random-siglip-hf/
    config.json                 SiglipConfig (model_type "siglip"): hidden 32, 1 layer, image 32x32, patch 8,
                                text max_position_embeddings 64
    preprocessor_config.json    SiglipImageProcessor: resize to 32x32, rescale 1/255, mean/std 0.5
    tokenizer.json              Unigram + Metaspace trained here, lower-cased; "$A </s>"
    tokenizer_config.json       model_max_length 64, pad_token "</s>" (id 1, as google/siglip-*)
    onnx/vision_model.onnx      pixel_values -> pooler_output [N,32], last_hidden_state (optimum's SigLIP towers
                                name the embedding pooler_output; there is no projection in SigLIP)
    onnx/text_model.onnx        input_ids [B,64] (no attention_mask, as SigLIP) -> pooler_output [B,32], last_hidden_state
    onnx/model.onnx             input_ids, pixel_values -> logits_per_image, logits_per_text, text_embeds, image_embeds
    sightline-scoring.json      {"logit_scale", "logit_bias"}: the trained scalars, which separate towers cannot carry
                                (Sightline's sidecar, docs/byo-models.md)
    reference.json

reference.json: the 3 fixed images (RGB24 32x32, base64, row-major HWC), the pixel_values formula, 3 texts with
the ids fed (SigLIP: padded to 64 with the pad id), raw tower outputs (image_embeds / text_embeds before any
normalisation), the L2-normed embeddings, the cosine matrix [text][image], logits and probabilities
(SigLIP: sigmoid(exp(logit_scale) * cos + logit_bias); CLIP: softmax over images), logit_scale / logit_bias, and
the largest ONNX-vs-PyTorch differences measured here. Every exported graph is checked with onnxruntime against
PyTorch (<= 1e-4, on other batch sizes and sequence lengths than the trace) before anything is kept.
"""
import base64
import inspect
import json
import math
import os
import shutil

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOL = 1e-4
# Set from the command line in main().
OPTS = {"layers": 1, "combined": False, "quantized": False}
MAX_FOLDER_BYTES = 1_000_000
IMAGE = 32
TEXTS = ["a red car on a wet street", "two players shoot at the goal", "the keeper saves it"]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# Non-default SigLIP scalars (init is log(10) and -10), so a reader that assumed the defaults fails the test.
SIGLIP_LOGIT_SCALE = math.log(7.5)
SIGLIP_LOGIT_BIAS = -1.25


# ---------------------------------------------------------------- text corpus + tokenizers
def corpus() -> list[str]:
    subjects = ["a red car", "a blue bus", "two players", "the keeper", "a dog", "the crowd", "a cyclist",
                "the referee", "a woman", "a man", "the striker", "children"]
    verbs = ["runs across", "shoot at", "saves it near", "waits on", "crosses", "walks along", "drives down",
             "cheers at", "stops at", "jumps over"]
    places = ["the goal", "a wet street", "the pitch", "the corner", "a busy road", "the park", "the station",
              "the line", "a bridge", "the square"]
    lines = list(TEXTS)
    for i, s in enumerate(subjects):
        for j, v in enumerate(verbs):
            p = places[(i + 3 * j) % len(places)]
            lines.append(f"{s} {v} {p}")
            lines.append(f"{s.capitalize()} {v} {p} at night, seen from above.")
    return lines


def clip_tokenizer():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<|startoftext|>", "<|endoftext|>"]
    trainer = trainers.BpeTrainer(vocab_size=280, special_tokens=special,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(), trainer=trainer)
    bos, eos = tok.token_to_id(special[0]), tok.token_to_id(special[1])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{special[0]} $A {special[1]}", pair=f"{special[0]} $A {special[1]} $B {special[1]}",
        special_tokens=[(special[0], bos), (special[1], eos)])
    return tok, {"bos": bos, "eos": eos, "pad": eos}


def siglip_tokenizer():
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    special = ["<pad>", "</s>", "<unk>"]
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=special, unk_token="<unk>", show_progress=False)
    tok.train_from_iterator(corpus(), trainer=trainer)
    eos = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", eos)])
    # google/siglip-*: pad_token is "</s>" (id 1); texts are padded to max_length 64 with it.
    return tok, {"eos": eos, "pad": eos, "unk": tok.token_to_id("<unk>")}


# ---------------------------------------------------------------- images
def images() -> list[np.ndarray]:
    y, x = np.mgrid[0:IMAGE, 0:IMAGE]
    a = np.stack([x * 8, y * 8, np.full_like(x, 128)], -1)
    b = np.stack([((x // 4 + y // 4) % 2) * 255, np.full_like(x, 60), ((x // 8) % 2) * 200], -1)
    rng = np.random.default_rng(1234)
    c = np.clip(np.array([200, 40, 30])[None, None, :] + rng.integers(-30, 31, (IMAGE, IMAGE, 3)), 0, 255)
    return [np.ascontiguousarray(i.astype(np.uint8)) for i in (a, b, c)]


def pixel_values(imgs: list[np.ndarray], mean, std) -> torch.Tensor:
    """RGB24 HWC -> ((x / 255) - mean) / std, channel first: what Sightline computes (src/model/preprocess.ts)."""
    x = torch.tensor(np.stack(imgs), dtype=torch.float32).permute(0, 3, 1, 2) / 255.0
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def processor_check(kind: str, pre: dict, imgs, pv) -> object:
    """The HF image processor on the same images, when it can run here (needs Pillow): max |diff| to pv."""
    try:
        if kind == "clip":
            from transformers import CLIPImageProcessor as P
        else:
            from transformers import SiglipImageProcessor as P
        proc = P(**{k: v for k, v in pre.items() if k not in ("image_processor_type", "processor_class")})
        out = proc(images=[i for i in imgs], return_tensors="pt")["pixel_values"]
        return float((out - pv).abs().max())
    except Exception as err:  # informational only
        return f"not run: {type(err).__name__}: {str(err)[:160]}"


# ---------------------------------------------------------------- export + check
def _export_once(module, args, path, inputs, outputs, axes, dynamo: bool):
    kw = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes)
    if dynamo:
        if "external_data" in inspect.signature(torch.onnx.export).parameters:
            kw["external_data"] = False
        last = None
        for opset in (17, 18):
            try:
                torch.onnx.export(module, args, path, dynamo=True, opset_version=opset, **kw)
                return f"dynamo opset {opset}"
            except Exception as err:
                last = err
                print(f"  dynamo export at opset {opset} failed: {repr(err)[:300]}", flush=True)
        raise last
    torch.onnx.export(module, args, path, dynamo=False, opset_version=17, do_constant_folding=True, **kw)
    return "torchscript opset 17"


def compact(path: str) -> None:
    """The same graph in fewer bytes: intermediate tensors and initializers renamed t0, t1, ... (graph inputs
    and outputs keep their names), node names, doc strings and value_info dropped. Graphs with subgraphs keep
    their tensor names (a subgraph may refer to outer names)."""
    import onnx

    m = onnx.load(path)
    g = m.graph
    keep = {i.name for i in g.input} | {o.name for o in g.output}
    sub = any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in g.node for a in n.attribute)
    for n in g.node:
        n.name = ""
        n.doc_string = ""
    del g.value_info[:]
    m.doc_string = ""
    if not sub:
        names: dict[str, str] = {}

        def short(x: str) -> str:
            if x == "" or x in keep:
                return x
            return names.setdefault(x, f"t{len(names)}")

        for t in g.initializer:
            t.name = short(t.name)
        for n in g.node:
            ins, outs = [short(x) for x in n.input], [short(x) for x in n.output]
            del n.input[:]
            n.input.extend(ins)
            del n.output[:]
            n.output.extend(outs)
    onnx.save(m, path)


def _ort_diff(path, checks) -> float:
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    worst = 0.0
    for feeds, want in checks:
        got = dict(zip(names, sess.run(None, {k: v.numpy() for k, v in feeds.items()})))
        for name, ref in want.items():
            if got[name].shape != tuple(ref.shape):
                raise AssertionError(f"{os.path.basename(path)}: {name} shape {got[name].shape} != {tuple(ref.shape)}")
            worst = max(worst, float(np.abs(got[name] - ref.numpy()).max()))
    return worst


def export_checked(module, args, path, inputs, outputs, axes, checks) -> dict:
    """Export (TorchScript exporter first, dynamo if it raises or its graph fails the check), then run every
    check (feeds, {output: PyTorch tensor}) through onnxruntime; <= TOL or this raises."""
    import onnx

    for dynamo in (False, True):
        try:
            how = _export_once(module, args, path, inputs, outputs, axes, dynamo)
            compact(path)
            model = onnx.load(path)
            onnx.checker.check_model(model)
            got_in = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
            got_out = [o.name for o in model.graph.output]
            if got_in != inputs or got_out[: len(outputs)] != outputs:
                raise AssertionError(f"graph I/O {got_in} -> {got_out}, wanted {inputs} -> {outputs}")
            diff = _ort_diff(path, checks)
            if diff > TOL:
                raise AssertionError(f"onnxruntime differs from PyTorch by {diff:.3e} > {TOL}")
            print(f"  {os.path.relpath(path)}: {how}, inputs {got_in}, outputs {got_out}, "
                  f"ort vs torch max |diff| {diff:.3e} (<= {TOL})", flush=True)
            return {"exporter": how, "maxAbsDiff": diff, "inputs": got_in, "outputs": got_out}
        except Exception as err:
            if dynamo:
                raise
            print(f"  TorchScript export of {os.path.basename(path)} unusable ({repr(err)[:400]}); trying dynamo",
                  flush=True)
    raise AssertionError("unreachable")


def quantize(src: str, dst: str, checks) -> dict:
    """onnxruntime's dynamic quantization (uint8 MatMul weights), as the `_quantized` files of Xenova folders."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(src, dst, weight_type=QuantType.QUInt8)
        diff = _ort_diff(dst, checks)
        print(f"  {os.path.relpath(dst)}: quantize_dynamic uint8, max |diff| to PyTorch {diff:.3e}", flush=True)
        return {"maxAbsDiff": diff}
    except Exception as err:
        if os.path.exists(dst):
            os.remove(dst)
        print(f"  quantized variant of {os.path.basename(src)} skipped: {repr(err)[:300]}", flush=True)
        return {"skipped": repr(err)[:300]}


def outputs_of(out):
    return out if isinstance(out, (tuple, list)) else (out.last_hidden_state, out.pooler_output)


def with_eager(cls, cfg):
    try:
        return cls._from_config(cfg, attn_implementation="eager")
    except Exception as err:
        print(f"  {cls.__name__}: eager attention not set ({repr(err)[:120]}); default attention", flush=True)
        return cls(cfg)


def tolist(t: torch.Tensor):
    """Rows of floats rounded to 7 significant digits (float32 carries about 7; the tests allow 1e-4)."""
    return [[float(f"{v:.7g}") for v in row] for row in t.tolist()]


def b64(img: np.ndarray) -> str:
    return base64.b64encode(img.tobytes()).decode()


def pad_rows(rows: list[list[int]], pad: int, width: int | None = None):
    width = width or max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.int64)
    mask = torch.zeros((len(rows), width), dtype=torch.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def drop_optional(out: str, files: list[str]) -> None:
    """Exported and checked (reference.json keeps the figures), not kept: see --with-combined / --with-quantized."""
    for f in files:
        path = os.path.join(out, "onnx", f)
        if os.path.exists(path):
            os.remove(path)
            print(f"  {os.path.relpath(path)}: checked, not kept", flush=True)


def folder_size(d: str) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def write_json(path: str, obj) -> None:
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


# ---------------------------------------------------------------- CLIP
class ClipVision(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, pixel_values):
        last, pooled = outputs_of(self.m.vision_model(pixel_values=pixel_values))[:2]
        return self.m.visual_projection(pooled), last


class ClipText(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask):
        last, pooled = outputs_of(self.m.text_model(input_ids=input_ids, attention_mask=attention_mask))[:2]
        return self.m.text_projection(pooled), last


class ClipBoth(nn.Module):
    """optimum's CLIPModel export: normalised embeds, logits = exp(logit_scale) * cos."""

    def __init__(self, m):
        super().__init__()
        self.v, self.t, self.m = ClipVision(m), ClipText(m), m

    def forward(self, input_ids, pixel_values, attention_mask):
        img = F.normalize(self.v(pixel_values)[0], dim=-1)
        txt = F.normalize(self.t(input_ids, attention_mask)[0], dim=-1)
        per_text = self.m.logit_scale.exp() * txt @ img.t()
        return per_text.t(), per_text, txt, img


def build_clip(out_root: str) -> None:
    from transformers import CLIPConfig, CLIPModel

    out = os.path.join(out_root, "tiny-random-clip-hf")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "onnx"))
    print("tiny-random-clip-hf", flush=True)
    tok, sp = clip_tokenizer()
    max_len = 32
    cfg = CLIPConfig(
        text_config=dict(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=OPTS["layers"],
                         num_attention_heads=4, max_position_embeddings=max_len, bos_token_id=sp["bos"],
                         eos_token_id=sp["eos"], pad_token_id=sp["pad"]),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=OPTS["layers"], num_attention_heads=4,
                           image_size=IMAGE, patch_size=8, num_channels=3),
        projection_dim=16)
    torch.manual_seed(0)
    model = with_eager(CLIPModel, cfg).eval()
    with torch.no_grad():
        model.logit_scale.fill_(math.log(20.0))

    imgs = images()
    pv = pixel_values(imgs, CLIP_MEAN, CLIP_STD)
    rows = [tok.encode(t).ids for t in TEXTS]
    ids, mask = pad_rows(rows, sp["pad"])
    vision, text, both = ClipVision(model).eval(), ClipText(model).eval(), ClipBoth(model).eval()
    with torch.no_grad():
        img_raw, img_last = vision(pv)
        txt_raw, txt_last = text(ids, mask)
        lpi, lpt, txt_n, img_n = both(ids, pv, mask)
        full = model(input_ids=ids, pixel_values=pv, attention_mask=mask)
        agree = max(float((full.logits_per_image - lpi).abs().max()), float((full.text_embeds - txt_n).abs().max()),
                    float((full.image_embeds - img_n).abs().max()))
        assert agree < 1e-5, f"CLIP export wrappers differ from CLIPModel.forward by {agree}"
        # Other shapes than the trace: one text alone (unpadded, as Sightline's CLIP path feeds it), one image.
        one_ids = torch.tensor([rows[1]])
        one_raw = text(one_ids, torch.ones_like(one_ids))[0]
        assert float((one_raw[0] - txt_raw[1]).abs().max()) < 1e-5, "CLIP text embedding depends on padding"

    trace_pv = torch.randn(2, 3, IMAGE, IMAGE)
    trace_ids, trace_mask = pad_rows([rows[0][:5], rows[2][:7]], sp["pad"])
    report = {}
    report["vision_model.onnx"] = export_checked(
        vision, (trace_pv,), os.path.join(out, "onnx", "vision_model.onnx"), ["pixel_values"],
        ["image_embeds", "last_hidden_state"], {"pixel_values": {0: "batch_size"}, "image_embeds": {0: "batch_size"},
                                                "last_hidden_state": {0: "batch_size"}},
        [({"pixel_values": pv}, {"image_embeds": img_raw, "last_hidden_state": img_last}),
         ({"pixel_values": pv[1:2]}, {"image_embeds": img_raw[1:2]})])
    report["text_model.onnx"] = export_checked(
        text, (trace_ids, trace_mask), os.path.join(out, "onnx", "text_model.onnx"), ["input_ids", "attention_mask"],
        ["text_embeds", "last_hidden_state"],
        {"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "sequence_length"},
         "text_embeds": {0: "batch_size"}, "last_hidden_state": {0: "batch_size", 1: "sequence_length"}},
        [({"input_ids": ids, "attention_mask": mask}, {"text_embeds": txt_raw, "last_hidden_state": txt_last}),
         ({"input_ids": one_ids, "attention_mask": torch.ones_like(one_ids)}, {"text_embeds": txt_raw[1:2]})])
    report["model.onnx"] = export_checked(
        both, (trace_ids, trace_pv, trace_mask), os.path.join(out, "onnx", "model.onnx"),
        ["input_ids", "pixel_values", "attention_mask"], ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
        {"input_ids": {0: "text_batch_size", 1: "sequence_length"}, "attention_mask": {0: "text_batch_size", 1: "sequence_length"},
         "pixel_values": {0: "image_batch_size"}, "logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
         "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"}, "text_embeds": {0: "text_batch_size"},
         "image_embeds": {0: "image_batch_size"}},
        [({"input_ids": ids, "pixel_values": pv, "attention_mask": mask},
          {"logits_per_image": lpi, "logits_per_text": lpt, "text_embeds": txt_n, "image_embeds": img_n})])
    report["vision_model_quantized.onnx"] = quantize(
        os.path.join(out, "onnx", "vision_model.onnx"), os.path.join(out, "onnx", "vision_model_quantized.onnx"),
        [({"pixel_values": pv}, {"image_embeds": img_raw})])
    report["text_model_quantized.onnx"] = quantize(
        os.path.join(out, "onnx", "text_model.onnx"), os.path.join(out, "onnx", "text_model_quantized.onnx"),
        [({"input_ids": ids, "attention_mask": mask}, {"text_embeds": txt_raw})])

    drop_optional(out, ["model.onnx"] if not OPTS["combined"] else [])
    drop_optional(out, [] if OPTS["quantized"] else ["vision_model_quantized.onnx", "text_model_quantized.onnx"])
    model.config._name_or_path = "sightline/tiny-random-clip-hf"
    model.config.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "CLIPTokenizer", "model_max_length": max_len, "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
        "do_lower_case": True})
    pre = {"image_processor_type": "CLIPImageProcessor", "do_resize": True, "size": {"shortest_edge": IMAGE},
           "resample": 3, "do_center_crop": True, "crop_size": {"height": IMAGE, "width": IMAGE}, "do_rescale": True,
           "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
           "do_convert_rgb": True}
    write_json(os.path.join(out, "preprocessor_config.json"), pre)
    cos = txt_n @ img_n.t()
    write_json(os.path.join(out, "reference.json"), {
        "model_type": "clip", "imageSize": [IMAGE, IMAGE], "mean": CLIP_MEAN, "std": CLIP_STD,
        "images": [b64(i) for i in imgs], "imageFormat": "RGB24, row-major HWC, 32x32, base64",
        "pixelValues": "((x / 255) - mean[c]) / std[c], channel first",
        "processorCheck": processor_check("clip", pre, imgs, pv),
        "texts": TEXTS, "textIds": rows, "inputIds": ids.tolist(), "attentionMask": mask.tolist(),
        "imageEmbeds": tolist(img_raw), "textEmbeds": tolist(txt_raw),
        "imageEmbedsNormalized": tolist(img_n), "textEmbedsNormalized": tolist(txt_n),
        "cosine": tolist(cos), "logitScale": float(model.logit_scale), "logitsPerText": tolist(lpt),
        "probsPerText": tolist(lpt.softmax(-1)), "onnx": report,
        "versions": versions()})
    finish(out)


# ---------------------------------------------------------------- SigLIP
class SiglipVision(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, pixel_values):
        last, pooled = outputs_of(self.m.vision_model(pixel_values=pixel_values))[:2]
        return pooled, last


class SiglipText(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        last, pooled = outputs_of(self.m.text_model(input_ids=input_ids))[:2]
        return pooled, last


class SiglipBoth(nn.Module):
    """SiglipModel.forward's outputs: normalised embeds, logits = exp(logit_scale) * cos + logit_bias."""

    def __init__(self, m):
        super().__init__()
        self.v, self.t, self.m = SiglipVision(m), SiglipText(m), m

    def forward(self, input_ids, pixel_values):
        img = F.normalize(self.v(pixel_values)[0], dim=-1)
        txt = F.normalize(self.t(input_ids)[0], dim=-1)
        per_text = txt @ img.t() * self.m.logit_scale.exp() + self.m.logit_bias
        return per_text.t(), per_text, txt, img


def build_siglip(out_root: str) -> None:
    from transformers import SiglipConfig, SiglipModel

    out = os.path.join(out_root, "tiny-random-siglip-hf")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "onnx"))
    print("tiny-random-siglip-hf", flush=True)
    tok, sp = siglip_tokenizer()
    max_len = 64
    cfg = SiglipConfig(
        text_config=dict(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=OPTS["layers"],
                         num_attention_heads=4, max_position_embeddings=max_len, pad_token_id=sp["pad"],
                         eos_token_id=sp["eos"]),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=OPTS["layers"], num_attention_heads=4,
                           image_size=IMAGE, patch_size=8, num_channels=3))
    torch.manual_seed(1)
    model = with_eager(SiglipModel, cfg).eval()
    with torch.no_grad():
        model.logit_scale.fill_(SIGLIP_LOGIT_SCALE)
        model.logit_bias.fill_(SIGLIP_LOGIT_BIAS)

    imgs = images()
    pv = pixel_values(imgs, [0.5] * 3, [0.5] * 3)
    rows = [tok.encode(t).ids for t in TEXTS]
    ids, _ = pad_rows(rows, sp["pad"], max_len)  # padding="max_length", as SigLIP was trained
    vision, text, both = SiglipVision(model).eval(), SiglipText(model).eval(), SiglipBoth(model).eval()
    with torch.no_grad():
        img_raw, img_last = vision(pv)
        txt_raw, txt_last = text(ids)
        lpi, lpt, txt_n, img_n = both(ids, pv)
        full = model(input_ids=ids, pixel_values=pv)
        agree = max(float((full.logits_per_image - lpi).abs().max()), float((full.text_embeds - txt_n).abs().max()),
                    float((full.image_embeds - img_n).abs().max()))
        assert agree < 1e-5, f"SigLIP export wrappers differ from SiglipModel.forward by {agree}"
        short = ids[:2, :20]  # another sequence length than the trace and than 64
        short_raw, short_last = text(short)

    trace_pv = torch.randn(2, 3, IMAGE, IMAGE)
    trace_ids = ids[[0, 2]].clone()
    trace_ids[:, 40:] = sp["pad"]
    report = {}
    report["vision_model.onnx"] = export_checked(
        vision, (trace_pv,), os.path.join(out, "onnx", "vision_model.onnx"), ["pixel_values"],
        ["pooler_output", "last_hidden_state"], {"pixel_values": {0: "batch_size"}, "pooler_output": {0: "batch_size"},
                                                 "last_hidden_state": {0: "batch_size"}},
        [({"pixel_values": pv}, {"pooler_output": img_raw, "last_hidden_state": img_last}),
         ({"pixel_values": pv[2:3]}, {"pooler_output": img_raw[2:3]})])
    report["text_model.onnx"] = export_checked(
        text, (trace_ids,), os.path.join(out, "onnx", "text_model.onnx"), ["input_ids"],
        ["pooler_output", "last_hidden_state"],
        {"input_ids": {0: "batch_size", 1: "sequence_length"}, "pooler_output": {0: "batch_size"},
         "last_hidden_state": {0: "batch_size", 1: "sequence_length"}},
        [({"input_ids": ids}, {"pooler_output": txt_raw, "last_hidden_state": txt_last}),
         ({"input_ids": ids[1:2]}, {"pooler_output": txt_raw[1:2]}),
         ({"input_ids": short}, {"pooler_output": short_raw})])
    report["model.onnx"] = export_checked(
        both, (trace_ids, trace_pv), os.path.join(out, "onnx", "model.onnx"), ["input_ids", "pixel_values"],
        ["logits_per_image", "logits_per_text", "text_embeds", "image_embeds"],
        {"input_ids": {0: "text_batch_size", 1: "sequence_length"}, "pixel_values": {0: "image_batch_size"},
         "logits_per_image": {0: "image_batch_size", 1: "text_batch_size"},
         "logits_per_text": {0: "text_batch_size", 1: "image_batch_size"}, "text_embeds": {0: "text_batch_size"},
         "image_embeds": {0: "image_batch_size"}},
        [({"input_ids": ids, "pixel_values": pv},
          {"logits_per_image": lpi, "logits_per_text": lpt, "text_embeds": txt_n, "image_embeds": img_n}),
         ({"input_ids": ids[1:2], "pixel_values": pv[:1]},
          {"text_embeds": txt_n[1:2], "image_embeds": img_n[:1], "logits_per_text": lpt[1:2, :1]})])

    drop_optional(out, ["model.onnx"] if not OPTS["combined"] else [])
    model.config._name_or_path = "sightline/tiny-random-siglip-hf"
    model.config.save_pretrained(out)
    tok.save(os.path.join(out, "tokenizer.json"))
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "SiglipTokenizer", "model_max_length": max_len, "eos_token": "</s>", "pad_token": "</s>",
        "unk_token": "<unk>", "do_lower_case": True})
    pre = {"image_processor_type": "SiglipImageProcessor", "processor_class": "SiglipProcessor", "do_resize": True,
           "size": {"height": IMAGE, "width": IMAGE}, "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255,
           "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_convert_rgb": None}
    write_json(os.path.join(out, "preprocessor_config.json"), pre)
    scale, bias = float(model.logit_scale), float(model.logit_bias)
    write_json(os.path.join(out, "sightline-scoring.json"), {
        "logit_scale": scale, "logit_bias": bias,
        "note": "SiglipModel's logit_scale (log of the multiplier) and logit_bias; separate towers do not carry them"})
    cos = txt_n @ img_n.t()
    write_json(os.path.join(out, "reference.json"), {
        "model_type": "siglip", "imageSize": [IMAGE, IMAGE], "mean": [0.5] * 3, "std": [0.5] * 3,
        "images": [b64(i) for i in imgs], "imageFormat": "RGB24, row-major HWC, 32x32, base64",
        "pixelValues": "((x / 255) - 0.5) / 0.5, channel first",
        "processorCheck": processor_check("siglip", pre, imgs, pv),
        "texts": TEXTS, "textIds": rows, "inputIds": ids.tolist(), "maxLength": max_len, "padId": sp["pad"],
        "imageEmbeds": tolist(img_raw), "textEmbeds": tolist(txt_raw),
        "imageEmbedsNormalized": tolist(img_n), "textEmbedsNormalized": tolist(txt_n),
        "cosine": tolist(cos), "logitScale": scale, "logitBias": bias, "logitsPerText": tolist(lpt),
        "probsPerText": tolist(torch.sigmoid(lpt)), "onnx": report, "versions": versions()})
    finish(out)


def versions() -> dict:
    import onnx
    import onnxruntime
    import tokenizers
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__, "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__, "tokenizers": tokenizers.__version__}


def finish(out: str) -> None:
    size = folder_size(out)
    files = {os.path.relpath(os.path.join(r, f), out): os.path.getsize(os.path.join(r, f))
             for r, _, fs in os.walk(out) for f in fs}
    print(f"  {os.path.basename(out)}: {size} bytes {json.dumps(files, sort_keys=True)}", flush=True)
    if size >= MAX_FOLDER_BYTES:  # reported, not fatal: the folder is still usable for a second look
        print(f"  WARNING: {out} is {size} bytes, over {MAX_FOLDER_BYTES}", flush=True)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description="tiny CLIP and SigLIP folders in the HF ONNX layouts")
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=1, help="transformer layers per tower (default 1)")
    ap.add_argument("--with-combined", action="store_true", help="keep onnx/model.onnx (both towers in one graph)")
    ap.add_argument("--with-quantized", action="store_true", help="keep CLIP's onnx/*_quantized.onnx towers")
    args = ap.parse_args()
    OPTS.update(layers=args.layers, combined=args.with_combined, quantized=args.with_quantized)
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.set_grad_enabled(False)
    print("versions", json.dumps(versions()), flush=True)
    build_clip(out)
    build_siglip(out)
    print("all fixtures written and checked", flush=True)


if __name__ == "__main__":
    main()
