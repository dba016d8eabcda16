"""Tiny random-weight Hugging Face VLMs in the ONNX layout transformers.js publishes, for issue 21's tests.

Usage, from the checkout root on a machine with torch, transformers (v5), onnx, onnxruntime and tokenizers:
    python3 -m train.byo.make_vlm_fixtures --out OUT_DIR [--seed 11]

Writes OUT_DIR/hf-smolvlm-tiny: a SmolVLM (Idefics3 family: SigLIP-style vision tower, pixel-shuffle
connector, Llama decoder) built with transformers' own classes at a tiny size, exported as
    onnx/vision_encoder.onnx        pixel_values [B, N, 3, H, W], pixel_attention_mask [B, N, H, W] -> image_features
    onnx/embed_tokens.onnx          input_ids [B, T] -> inputs_embeds [B, T, D]
    onnx/decoder_model_merged.onnx  inputs_embeds, attention_mask [B, P+T], position_ids [B, T],
                                    past_key_values.N.key|value [B, kvHeads, P, headDim]
                                    -> logits, present.N.key|value [B, kvHeads, P+T, headDim]
    onnx/*_int8.onnx                onnxruntime dynamic int8 quantization of the three graphs
beside config.json, preprocessor_config.json, processor_config.json, generation_config.json, tokenizer.json
(a byte-level BPE trained here) and tokenizer_config.json (a chat template of SmolVLM's shape), and
sightline-reference.json: PyTorch outputs of transformers' own forward for fixed inputs (the numerics
fixtures), and onnxruntime's outputs of the int8 graphs. The exported graphs are checked against PyTorch
with onnxruntime before anything is written.

The decoder graph is written out layer by layer from the transformers modules (their weights, their rotary
embedding and apply_rotary_pos_emb) so the traced graph has plain past/present tensors; its outputs are
checked against transformers' LlamaModel forward (eager attention) before export.

Option --real-size [256m|500m] writes OUT_DIR/hf-smolvlm-256m-random (or -500m-random): the same three graphs at
SmolVLM2-256M's (or -500M's) shapes with random weights (~1 GB; ~1.8 GB), for the cost figures of
docs/byo-models.md; no references.
"""
import argparse
import json
import os
import random

import numpy as np
import torch
import torch.nn as nn

IMAGE = "<image>"
AROUND = "<fake_token_around_image>"
GLOBAL = "<global-img>"
START = "<|im_start|>"
END = "<end_of_utterance>"
PAD = "<|endoftext|>"
SPECIAL = [PAD, START, END, AROUND, IMAGE, GLOBAL]

# A chat template of SmolVLM's shape (its role names, "User:" before an image and "User: " before text,
# <end_of_utterance> after each turn, "Assistant:" as the generation prompt), written for these fixtures.
CHAT_TEMPLATE = (
    "<|im_start|>"
    "{%- for m in messages -%}"
    "{{ m['role'] | capitalize }}"
    "{%- if m['content'] is string -%}{{ ': ' + m['content'] }}"
    "{%- else -%}"
    "{{ ':' if m['content'][0]['type'] == 'image' else ': ' }}"
    "{%- for part in m['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{ '<image>' }}{%- else -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "<end_of_utterance>\n"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}"
)


def corpus(seed: int) -> list[str]:
    rnd = random.Random(seed)
    subjects = ["A man", "A woman", "The car", "A dog", "The bus", "A cyclist", "The crowd", "A child"]
    verbs = ["crosses the street", "waits at the light", "turns left", "walks past the shop", "runs", "stops"]
    lines = []
    for _ in range(400):
        t = rnd.randint(0, 3600)
        lines.append(f"User: Time {t}-{t + 1} s. Describe what changed.{END}\nAssistant: {rnd.choice(subjects)} {rnd.choice(verbs)}.{END}\n")
        lines.append(f"System: You comment on a live video. Say nothing when nothing new happens.{END}\n")
    return lines


def make_tokenizer(vocab_size: int, seed: int, special=None, texts=None):
    """A byte-level BPE trained on `texts` (this family's corpus unless given) with `special` tokens first."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=special or SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts if texts is not None else corpus(seed), trainer=trainer)
    return tok


def tiny_config(vocab: int, ids: dict, real_size: str | None):
    from transformers import SmolVLMConfig

    if real_size:  # SmolVLM2-256M's or -500M's shapes (HuggingFaceTB/SmolVLM2-*-Video-Instruct config.json)
        vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                      image_size=512, patch_size=16)
        text = dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                    num_key_value_heads=3, head_dim=64, max_position_embeddings=8192, rope_theta=100000.0)
        if real_size == "500m":  # its decoder is SmolLM2-360M's
            text.update(hidden_size=960, intermediate_size=2560, num_hidden_layers=32, num_attention_heads=15,
                        num_key_value_heads=5)
        scale = 4
    else:
        vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                      image_size=64, patch_size=16)
        text = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, max_position_embeddings=4096, rope_theta=100000.0)
        scale = 2
    text.update(model_type="llama", vocab_size=vocab, rms_norm_eps=1e-5, tie_word_embeddings=False,
                bos_token_id=ids[START], eos_token_id=ids[END], pad_token_id=ids[PAD])
    return SmolVLMConfig(vision_config=dict(vision, num_channels=3), text_config=text, scale_factor=scale,
                         image_token_id=ids[IMAGE], tie_word_embeddings=False, pad_token_id=ids[PAD])


@torch.no_grad()
def randomize(model, seed: int) -> None:
    """Weights of a size that makes the numerics mean something (transformers' init gives std 0.02, so logits
    would all be ~0): matrices N(0, 1/fan_in), embeddings N(0, 1), norm weights 1 + 0.1 N, biases 0.02 N."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if p.ndim >= 2:
            fan_in = p[0].numel()
            std = 1.0 if "embed_tokens" in name or "position_embedding" in name else fan_in ** -0.5
            p.copy_(torch.randn(p.shape, generator=g) * std)
        elif "norm" in name and name.endswith("weight"):
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
        else:
            p.copy_(0.02 * torch.randn(p.shape, generator=g))


def parts(model):
    inner = model.model
    text = getattr(inner, "text_model", None) or getattr(inner, "language_model")
    return inner.vision_model, inner.connector, text, model.lm_head


class VisionEncoder(nn.Module):
    """pixel_values [B, N, 3, H, W] (+ mask: padded pixels are zeroed) -> image_features [B*N, tokens, D].
    Every image is a full max_image_size square (no splitting), so patch positions are 0..patches-1."""

    def __init__(self, vision, connector):
        super().__init__()
        self.vision, self.connector = vision, connector

    def forward(self, pixel_values, pixel_attention_mask):
        b, n, c, h, w = pixel_values.shape
        x = (pixel_values * pixel_attention_mask.unsqueeze(2).to(pixel_values.dtype)).reshape(b * n, c, h, w)
        emb = self.vision.embeddings.patch_embedding(x).flatten(2).transpose(1, 2)
        pos = torch.arange(emb.shape[1], device=emb.device)
        emb = emb + self.vision.embeddings.position_embedding(pos).unsqueeze(0)
        enc = self.vision.encoder(inputs_embeds=emb)
        hidden = enc[0] if isinstance(enc, tuple) else enc.last_hidden_state
        return self.connector(self.vision.post_layernorm(hidden))


class EmbedTokens(nn.Module):
    def __init__(self, text):
        super().__init__()
        self.embed = text.embed_tokens

    def forward(self, input_ids):
        return self.embed(input_ids)


class MergedDecoder(nn.Module):
    """transformers' Llama layers with explicit past/present tensors ([B, kvHeads, seq, headDim]); masked
    scores get a finite -1e9 (so a fully masked padding row stays finite). `rope`: the family's
    apply_rotary_pos_emb (Llama's unless given; Qwen2-VL's takes the model's 3-axis cos/sin)."""

    def __init__(self, text, lm_head, cfg, rope=None):
        super().__init__()
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

        self.text, self.lm_head, self.rope = text, lm_head, rope or apply_rotary_pos_emb
        self.heads, self.kv_heads = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads

    def forward(self, inputs_embeds, attention_mask, position_ids, *past):
        h = inputs_embeds
        b, t, _ = h.shape
        p = past[0].shape[2]
        cos, sin = self.text.rotary_emb(h, position_ids)
        q_at = torch.arange(t, device=h.device) + p
        k_at = torch.arange(p + t, device=h.device)
        allowed = (k_at.unsqueeze(0) <= q_at.unsqueeze(1)).unsqueeze(0).unsqueeze(0) & attention_mask.bool()[:, None, None, :]
        bias = torch.where(allowed, torch.zeros((), dtype=h.dtype), torch.full((), -1e9, dtype=h.dtype))
        presents = []
        group = self.heads // self.kv_heads
        for i, layer in enumerate(self.text.layers):
            attn = layer.self_attn
            x = layer.input_layernorm(h)
            q = attn.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = self.rope(q, k, cos, sin)
            k = torch.cat([past[2 * i], k], dim=2)
            v = torch.cat([past[2 * i + 1], v], dim=2)
            presents += [k, v]
            kr = k.repeat_interleave(group, dim=1)
            vr = v.repeat_interleave(group, dim=1)
            scores = torch.matmul(q, kr.transpose(2, 3)) * self.head_dim ** -0.5 + bias
            o = torch.matmul(torch.softmax(scores, dim=-1), vr).transpose(1, 2).reshape(b, t, self.heads * self.head_dim)
            h = h + attn.o_proj(o)
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        return (self.lm_head(self.text.norm(h)),) + tuple(presents)


def export(module, args, path, inputs, outputs, axes):
    kw = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=17)
    try:
        torch.onnx.export(module, args, path, dynamo=False, **kw)
    except Exception as err:  # no TorchScript exporter in this torch
        print("legacy export failed, trying dynamo:", repr(err)[:300])
        torch.onnx.export(module, args, path, dynamo=True, external_data=False, **kw)


def decoder_io(layers, position_axes=None):
    """The transformers.js decoder names and dynamic axes; position_ids [batch, T] unless told (Qwen2-VL: [3, batch, T])."""
    past = [f"past_key_values.{i}.{n}" for i in range(layers) for n in ("key", "value")]
    present = [f"present.{i}.{n}" for i in range(layers) for n in ("key", "value")]
    axes = {"inputs_embeds": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": position_axes or {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    axes.update({n: {0: "batch_size", 2: "past_sequence_length"} for n in past})
    axes.update({n: {0: "batch_size", 2: "total_sequence_length"} for n in present})
    return ["inputs_embeds", "attention_mask", "position_ids"] + past, ["logits"] + present, axes


def ort_run(path, feeds):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {k: v for k, v in feeds.items() if k in {i.name for i in sess.get_inputs()}})


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def flat(t):
    return [round(float(x), 7) for x in np.asarray(t).reshape(-1).tolist()]


def test_frames(frames: int, size: int) -> np.ndarray:
    """Deterministic RGB frames [frames, size, size, 3] uint8 (test/byo rebuilds the same bytes)."""
    y, x = np.mgrid[0:size, 0:size]
    out = np.zeros((frames, size, size, 3), dtype=np.uint8)
    for f in range(frames):
        for c in range(3):
            out[f, :, :, c] = (x * 7 + y * 13 + c * 29 + f * 17) % 256
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


def build(out: str, seed: int, real_size: str | None) -> None:
    from transformers import PreTrainedTokenizerFast, SmolVLMForConditionalGeneration

    name = f"hf-smolvlm-{real_size}-random" if real_size else "hf-smolvlm-tiny"
    folder = os.path.join(out, name)
    os.makedirs(os.path.join(folder, "onnx"), exist_ok=True)
    raw = make_tokenizer(49280 if real_size else 384, seed)
    ids = {t: raw.token_to_id(t) for t in SPECIAL}
    vocab = 49280 if real_size else raw.get_vocab_size()
    cfg = tiny_config(vocab, ids, real_size)
    torch.manual_seed(seed)
    model = SmolVLMForConditionalGeneration._from_config(cfg, attn_implementation="eager").eval()
    randomize(model, seed)
    vision, connector, text, lm_head = parts(model)
    tcfg, vcfg = cfg.text_config, cfg.vision_config
    size = vcfg.image_size
    tokens_per_image = (size // vcfg.patch_size) ** 2 // cfg.scale_factor ** 2

    cfg.save_pretrained(folder)
    for f in os.listdir(folder):
        if f.endswith(".safetensors"):
            os.remove(os.path.join(folder, f))
    write_json(os.path.join(folder, "preprocessor_config.json"), {
        "image_processor_type": "SmolVLMImageProcessor", "processor_class": "SmolVLMProcessor",
        "do_resize": True, "size": {"longest_edge": size}, "max_image_size": {"longest_edge": size},
        "do_image_splitting": False, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "do_pad": True, "resample": 1})
    write_json(os.path.join(folder, "processor_config.json"), {"image_seq_len": tokens_per_image, "processor_class": "SmolVLMProcessor"})
    write_json(os.path.join(folder, "generation_config.json"), {
        "bos_token_id": ids[START], "eos_token_id": [ids[END], ids[PAD]], "pad_token_id": ids[PAD]})
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token=START, eos_token=END, pad_token=PAD)
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(folder)
    for extra in ("special_tokens_map.json", "chat_template.jinja"):  # keep the template inside tokenizer_config.json
        path = os.path.join(folder, extra)
        if os.path.exists(path) and extra == "chat_template.jinja":
            tc = json.load(open(os.path.join(folder, "tokenizer_config.json")))
            tc["chat_template"] = open(path).read()
            write_json(os.path.join(folder, "tokenizer_config.json"), tc)
            os.remove(path)

    onnx_dir = os.path.join(folder, "onnx")
    vpath, epath, dpath = (os.path.join(onnx_dir, f) for f in ("vision_encoder.onnx", "embed_tokens.onnx", "decoder_model_merged.onnx"))
    layers, kvh, hd = tcfg.num_hidden_layers, tcfg.num_key_value_heads, getattr(tcfg, "head_dim", None) or tcfg.hidden_size // tcfg.num_attention_heads
    venc, emb, dec = VisionEncoder(vision, connector).eval(), EmbedTokens(text).eval(), MergedDecoder(text, lm_head, tcfg).eval()

    # ---- inputs
    frames = 2
    rgb = test_frames(frames, size)
    pixel = torch.from_numpy(((rgb.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(0, 3, 1, 2).copy()).unsqueeze(0)
    pmask = torch.ones(1, frames, size, size, dtype=torch.bool)
    with torch.no_grad():
        feats = venc(pixel, pmask)
        if not real_size:  # the wrapper against transformers' own image path
            try:
                ref = model.model.get_image_features(pixel_values=pixel, pixel_attention_mask=pmask)
                if not torch.is_tensor(ref):
                    pooled = getattr(ref, "pooler_output", None)
                    ref = pooled if pooled is not None else ref[0]
                print("vision wrapper vs transformers get_image_features:", max_diff(feats.reshape(-1), ref.reshape(-1)))
            except Exception as err:  # a diagnostic only: the ONNX graph is checked against the wrapper below
                print("get_image_features comparison skipped:", repr(err)[:300])

    export(venc, (pixel, pmask), vpath, ["pixel_values", "pixel_attention_mask"], ["image_features"],
           {"pixel_values": {0: "batch_size", 1: "num_images"}, "pixel_attention_mask": {0: "batch_size", 1: "num_images"},
            "image_features": {0: "batch_num_images"}})
    export(emb, (torch.tensor([[1, 2, 3]]),), epath, ["input_ids"], ["inputs_embeds"],
           {"input_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    d_in, d_out, d_axes = decoder_io(layers)
    ex_past = tuple(torch.randn(2, kvh, 2, hd) for _ in range(2 * layers))
    ex_mask = torch.ones(2, 5, dtype=torch.int64)
    ex_mask[1, 0] = 0
    export(dec, (torch.randn(2, 3, tcfg.hidden_size), ex_mask, torch.arange(2, 5).unsqueeze(0).repeat(2, 1)) + ex_past,
           dpath, d_in, d_out, d_axes)
    if real_size:  # weights go to external files the cost bench refills with random values (~1 GB stays here)
        import onnx

        for path in (vpath, epath, dpath):
            m = onnx.load(path)
            if os.path.exists(path + ".data"):  # onnx appends to an existing data file (a second run)
                os.remove(path + ".data")
            onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=os.path.basename(path) + ".data", size_threshold=1024)
        print("wrote", folder, {f: os.path.getsize(os.path.join(onnx_dir, f)) for f in sorted(os.listdir(onnx_dir))})
        return

    # ---- a two-round conversation through the template, images expanded as SmolVLM's processor does
    messages = [{"role": "system", "content": [{"type": "text", "text": "You comment on a live video."}]}]
    for r, line in enumerate(["A man crosses the street.", ""]):
        messages.append({"role": "user", "content": [{"type": "text", "text": f"Time {r}-{r + 1} s."}, {"type": "image"},
                                                       {"type": "image"}, {"type": "text", "text": "Describe what changed."}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": line}]})
    prompt = hf_tok.apply_chat_template(messages, tokenize=False)
    expanded = prompt.replace(IMAGE, AROUND + GLOBAL + IMAGE * tokens_per_image + AROUND)
    input_ids = hf_tok(expanded, add_special_tokens=False)["input_ids"]
    n_image = sum(1 for i in input_ids if i == ids[IMAGE])
    assert n_image == 4 * tokens_per_image, n_image
    images = torch.cat([pixel, pixel.flip(-1)], dim=1)  # round 2's frames are mirrored
    with torch.no_grad():
        all_feats = venc(images, torch.ones(1, 4, size, size, dtype=torch.bool)).reshape(-1, tcfg.hidden_size)
        embeds = text.embed_tokens(torch.tensor([input_ids]))[0]
        embeds[torch.tensor(input_ids) == ids[IMAGE]] = all_feats
        seq = len(input_ids)
        out = text(inputs_embeds=embeds.unsqueeze(0), position_ids=torch.arange(seq).unsqueeze(0), use_cache=False)
        hidden = out[0] if isinstance(out, tuple) else out.last_hidden_state
        logits_hf = lm_head(hidden)[0]
    cuts = [0, seq // 3, (2 * seq) // 3, seq]
    # the wrapper (and the ONNX graph) decoding in three chunks must give transformers' logits
    past = [torch.zeros(1, kvh, 0, hd) for _ in range(2 * layers)]
    feeds_chunks, chunk_logits = [], []
    for a, b in zip(cuts, cuts[1:]):
        feeds = {"inputs_embeds": embeds[a:b].unsqueeze(0).numpy(), "attention_mask": np.ones((1, b), dtype=np.int64),
                 "position_ids": np.arange(a, b, dtype=np.int64)[None]}
        feeds.update({n: t.numpy() for n, t in zip(d_in[3:], past)})
        with torch.no_grad():
            res = dec(torch.from_numpy(feeds["inputs_embeds"]), torch.from_numpy(feeds["attention_mask"]),
                      torch.from_numpy(feeds["position_ids"]), *past)
        print(f"chunk {a}-{b}: wrapper vs transformers max diff", max_diff(res[0][0].numpy(), logits_hf[a:b].numpy()))
        ort_out = ort_run(dpath, feeds)
        print(f"chunk {a}-{b}: onnx vs transformers max diff", max_diff(ort_out[0][0], logits_hf[a:b].numpy()))
        feeds_chunks.append(feeds)
        chunk_logits.append(ort_out)
        past = list(res[1:])
    ort_feats = ort_run(vpath, {"pixel_values": images.numpy(), "pixel_attention_mask": np.ones((1, 4, size, size), dtype=bool)})[0]
    print("vision onnx vs torch max diff", max_diff(ort_feats.reshape(-1), all_feats.numpy().reshape(-1)))
    ort_emb = ort_run(epath, {"input_ids": np.array([input_ids[:8]], dtype=np.int64)})[0]
    with torch.no_grad():
        print("embed onnx vs torch max diff", max_diff(ort_emb[0], text.embed_tokens(torch.tensor(input_ids[:8])).numpy()))

    # ---- int8 variants (onnxruntime dynamic quantization), and their outputs on the same chunks
    from onnxruntime.quantization import QuantType, quantize_dynamic

    for src in (vpath, epath, dpath):
        quantize_dynamic(src, src.replace(".onnx", "_int8.onnx"), weight_type=QuantType.QInt8)
    past_q = {n: np.zeros((1, kvh, 0, hd), dtype=np.float32) for n in d_in[3:]}
    int8_last = []
    for feeds in feeds_chunks:
        f = dict(feeds)
        f.update(past_q)
        res = ort_run(dpath.replace(".onnx", "_int8.onnx"), f)
        int8_last.append(flat(res[0][0, -1]))
        past_q = {n: r for n, r in zip(d_in[3:], res[1:])}
    int8_feats = ort_run(vpath.replace(".onnx", "_int8.onnx"), {"pixel_values": images.numpy(), "pixel_attention_mask": np.ones((1, 4, size, size), dtype=bool)})[0]

    write_json(os.path.join(folder, "sightline-reference.json"), {
        "about": "train/byo/make_vlm_fixtures.py: transformers (eager) outputs for fixed inputs; int8: onnxruntime CPU",
        "frames": {"size": size, "formula": "(x*7 + y*13 + c*29 + f*17) % 256, round 2 mirrored left-right"},
        "prompt": prompt,
        "inputIds": input_ids,
        "imageFeatures": flat(all_feats),
        "chunks": cuts,
        "lastLogits": [flat(logits_hf[b - 1]) for b in cuts[1:]],
        "int8": {"imageFeatures": flat(int8_feats), "lastLogits": int8_last},
    })
    sizes = {f: os.path.getsize(os.path.join(onnx_dir, f)) for f in sorted(os.listdir(onnx_dir))}
    print("wrote", folder, sizes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--real-size", nargs="?", const="256m", choices=["256m", "500m"], default=None,
                    help="SmolVLM2-256M's (default) or -500M's shapes, random weights, no references")
    a = ap.parse_args()
    build(a.out, a.seed, a.real_size)


if __name__ == "__main__":
    main()
