"""A tiny random-weight Qwen2-VL in the ONNX layout transformers.js publishes, for issue 21's tests.

One command, from the checkout root (CPU is enough; torch, transformers 5.x, onnx, onnxruntime, tokenizers):
    python3 -m train.byo.make_qwen2vl_fixture --out test/fixtures/models

Writes OUT/hf-qwen2vl-tiny: transformers' own Qwen2VLForConditionalGeneration at a tiny size (random weights,
a byte-level BPE trained here with Qwen's special tokens, a chat template of Qwen2-VL's shape), exported as
    onnx/vision_encoder.onnx        pixel_values [patches, C*temporal_patch*patch*patch], grid_thw [n, 3] int64
                                    -> image_features [patches / merge^2, D]
    onnx/embed_tokens.onnx          input_ids [B, T] -> inputs_embeds [B, T, D]
    onnx/decoder_model_merged.onnx  inputs_embeds, attention_mask [B, P+T], position_ids [3, B, T],
                                    past_key_values.N.key|value [B, kvHeads, P, headDim]
                                    -> logits, present.N.key|value [B, kvHeads, P+T, headDim]
(the names and axes of transformers.js's Qwen2-VL: its modeling_qwen2_vl.js feeds the vision encoder
`pixel_values` + `grid_thw` and reads `image_features`, and feeds the decoder 3-axis position_ids), beside
config.json, preprocessor_config.json, generation_config.json, tokenizer.json, tokenizer_config.json and
sightline-reference.json: transformers' outputs for fixed inputs, which the tests compare Sightline with.

The graphs are written from the transformers modules' own weights (a wrapper per graph, so the traced graph
has plain past/present tensors and a vision tower without Python loops over grid_thw); before anything is
written, each wrapper is checked against transformers' forward (the vision tower against model.visual on the
video processor's patches, the decoder against the whole model's forward with input_ids, videos and
transformers' own get_rope_index positions), and each ONNX graph against PyTorch with onnxruntime.
"""
import argparse
import json
import os
import random

import numpy as np
import torch
import torch.nn as nn

from train.byo.make_vlm_fixtures import EmbedTokens, MergedDecoder as VlmMergedDecoder, decoder_io as vlm_decoder_io, make_tokenizer as vlm_make_tokenizer, max_diff, ort_run

PAD = "<|endoftext|>"
IM_START, IM_END = "<|im_start|>", "<|im_end|>"
V_START, V_END, VIDEO, IMAGE = "<|vision_start|>", "<|vision_end|>", "<|video_pad|>", "<|image_pad|>"
SPECIAL = [PAD, IM_START, IM_END, V_START, V_END, VIDEO, IMAGE]

# A chat template of Qwen2-VL's shape, written for this fixture: ChatML turns (<|im_start|>role\n ... <|im_end|>\n),
# a default system turn when none is given, an image or a video as <|vision_start|><pad><|vision_end|> in the text.
CHAT_TEMPLATE = (
    "{%- for m in messages -%}"
    "{%- if loop.first and m['role'] != 'system' -%}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{{ '<|im_start|>' + m['role'] + '\\n' }}"
    "{%- if m['content'] is string -%}{{ m['content'] }}"
    "{%- else -%}{%- for part in m['content'] -%}"
    "{%- if part['type'] == 'image' -%}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif part['type'] == 'video' -%}{{ '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{%- else -%}{{ part['text'] }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)

# Sizes: the fixture folder must stay small (test/repo/weight.test.ts), so every matrix is tiny.
FRAME_W, FRAME_H = 32, 24  # the reference frames: not square, so height and width cannot be swapped unseen
MAX_PIXELS = 24 * 24  # Sightline's default frame for this folder: 24x24 (docs/byo-models.md)
MEAN = [0.48145466, 0.4578275, 0.40821073]  # Qwen2-VL's preprocessor values (the OpenAI CLIP ones)
STD = [0.26862954, 0.26130258, 0.27577711]


def corpus(seed: int) -> list[str]:
    rnd = random.Random(seed)
    subjects = ["A man", "A woman", "The car", "A dog", "The bus", "A cyclist"]
    verbs = ["crosses the street", "waits at the light", "turns left", "runs", "stops"]
    lines = []
    for _ in range(300):
        t = rnd.randint(0, 3600)
        lines.append(f"{IM_START}user\nTime {t}-{t + 1} s.{V_START}{VIDEO}{V_END}What is new in this second? "
                     f"Answer in one short sentence, or with nothing if nothing changed.{IM_END}\n"
                     f"{IM_START}assistant\n{rnd.choice(subjects)} {rnd.choice(verbs)}.{IM_END}\n")
        lines.append(f"{IM_START}system\nYou comment on a live video, one second at a time.{IM_END}\n")
    return lines


def make_tokenizer(vocab_size: int, seed: int):
    return vlm_make_tokenizer(vocab_size, seed, special=SPECIAL, texts=corpus(seed))


def tiny_config(vocab: int, ids: dict):
    from transformers import Qwen2VLConfig

    text = dict(hidden_size=32, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                max_position_embeddings=4096, rms_norm_eps=1e-6, vocab_size=vocab, tie_word_embeddings=False,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                bos_token_id=ids[IM_START], eos_token_id=ids[IM_END], pad_token_id=ids[PAD])
    vision = dict(depth=1, embed_dim=8, hidden_size=32, num_heads=1, mlp_ratio=2, in_channels=3, patch_size=4,
                  spatial_merge_size=2, temporal_patch_size=2)
    return Qwen2VLConfig(text_config=text, vision_config=vision, image_token_id=ids[IMAGE], video_token_id=ids[VIDEO],
                         vision_start_token_id=ids[V_START], vision_end_token_id=ids[V_END], tie_word_embeddings=False)


@torch.no_grad()
def randomize(model, seed: int) -> None:
    """Weights of a size that makes the numerics mean something: matrices N(0, 1/fan_in), embeddings N(0, 1),
    norm weights 1 + 0.1 N, biases 0.02 N (transformers' init, std 0.02, gives logits all ~0)."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if p.ndim >= 2:
            std = 1.0 if "embed_tokens" in name else p[0].numel() ** -0.5
            p.copy_(torch.randn(p.shape, generator=g) * std)
        elif ("norm" in name or "ln_q" in name) and name.endswith("weight"):
            p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
        else:
            p.copy_(0.02 * torch.randn(p.shape, generator=g))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class VisionEncoder(nn.Module):
    """pixel_values [patches, C*tp*p*p] (the processor's order: t, h/m, w/m, m, m), grid_thw [n, 3] -> image_features.
    Written from model.visual's modules; positions and the per-frame attention blocks come from grid_thw with tensor
    arithmetic (every row of grid_thw has the same h and w, as Sightline's fixed frame size gives)."""

    def __init__(self, visual, merge: int):
        super().__init__()
        self.visual, self.merge = visual, merge

    def forward(self, pixel_values, grid_thw):
        v, m = self.visual, self.merge
        x = v.patch_embed(pixel_values)
        n = x.shape[0]
        h, w = grid_thw[0, 1], grid_thw[0, 2]
        j = torch.arange(n, device=x.device)
        frame, k = j // (h * w), j % (h * w)
        block, inner = k // (m * m), k % (m * m)
        hpos = (block // (w // m)) * m + inner // m
        wpos = (block % (w // m)) * m + inner % m
        inv = v.rotary_pos_emb.inv_freq
        freqs = torch.cat([hpos[:, None].float() * inv, wpos[:, None].float() * inv], dim=-1)
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        same = frame[:, None] == frame[None, :]
        bias = torch.where(same, torch.zeros((), dtype=x.dtype), torch.full((), -1e9, dtype=x.dtype))
        for blk in v.blocks:
            a = blk.attn
            y = blk.norm1(x)
            q, kk, vv = a.qkv(y).reshape(n, 3, a.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
            q, kk = q * cos + rotate_half(q) * sin, kk * cos + rotate_half(kk) * sin
            q, kk, vv = (t.transpose(0, 1) for t in (q, kk, vv))  # [heads, n, hd]
            scores = torch.matmul(q, kk.transpose(1, 2)) * a.scaling + bias
            o = torch.matmul(torch.softmax(scores, dim=-1), vv).transpose(0, 1).reshape(n, -1)
            x = x + a.proj(o)
            x = x + blk.mlp(blk.norm2(x))
        return v.merger(x)


def merged_decoder(text, lm_head, cfg):
    """transformers' Qwen2-VL decoder layers with explicit past/present tensors and 3-axis position_ids [3, B, T]
    through the model's own rotary embedding (mrope sections): make_vlm_fixtures' wrapper with Qwen2-VL's rope."""
    from transformers.models.qwen2_vl.modeling_qwen2_vl import apply_rotary_pos_emb

    return VlmMergedDecoder(text, lm_head, cfg, rope=apply_rotary_pos_emb)


def export(module, args, path, inputs, outputs, axes):
    torch.onnx.export(module, args, path, dynamo=False, input_names=inputs, output_names=outputs,
                      dynamic_axes=axes, opset_version=17)
    compact(path)


def compact(path):
    """Short value names (the traced ones are long module paths) and no doc strings: the same graph in fewer
    bytes. Graph inputs and outputs keep their names."""
    import onnx

    m = onnx.load(path)
    g = m.graph
    io = {v.name for v in list(g.input) + list(g.output)}
    rename = {}
    for i, init in enumerate(g.initializer):
        if init.name not in io:
            rename[init.name] = f"w{i}"
            init.name = rename[init.name]
    for i, node in enumerate(g.node):
        node.name, node.doc_string = "", ""
        for j, out in enumerate(node.output):
            if out and out not in io:
                rename[out] = f"t{i}_{j}"
    for node in g.node:
        node.input[:] = [rename.get(x, x) for x in node.input]
        node.output[:] = [rename.get(x, x) for x in node.output]
    del g.value_info[:]
    m.producer_name, m.doc_string = "", ""
    onnx.checker.check_model(m)
    onnx.save(m, path)


def decoder_io(layers):
    return vlm_decoder_io(layers, position_axes={1: "batch_size", 2: "sequence_length"})


def check(what, diff, limit=1e-4):
    print(f"{what}: max diff {diff:.2e}")
    assert diff <= limit, f"{what}: {diff} > {limit}"


def flat(t):
    return [float(f"{x:.7g}") for x in np.asarray(t, dtype=np.float64).reshape(-1).tolist()]


def test_frames(second: int) -> np.ndarray:
    """Second `second`'s 2 RGB frames [2, FRAME_H, FRAME_W, 3] uint8 (the test rebuilds the same bytes)."""
    y, x = np.mgrid[0:FRAME_H, 0:FRAME_W]
    out = np.zeros((2, FRAME_H, FRAME_W, 3), dtype=np.uint8)
    for f in range(2):
        for c in range(3):
            out[f, :, :, c] = (x * 7 + y * 13 + c * 29 + f * 17 + second * 101) % 256
    return out


def normalize(frames: np.ndarray) -> np.ndarray:
    """uint8 [F, H, W, 3] -> float32 [F, 3, H, W]: x / 255, then (x - mean) / std per channel."""
    x = frames.astype(np.float32) / 255.0
    return ((x - np.array(MEAN, dtype=np.float32)) / np.array(STD, dtype=np.float32)).transpose(0, 3, 1, 2)


def patchify(frames: np.ndarray, patch: int, merge: int, tp: int) -> np.ndarray:
    """[F, C, H, W] (F a multiple of tp) -> [F/tp * H/p * W/p, C*tp*p*p] in Qwen2-VL's order: temporal group, merged
    row block, merged column block, row and column inside the block; each patch as (C, tp, p, p)."""
    f, c, h, w = frames.shape
    x = frames.reshape(f // tp, tp, c, h // patch // merge, merge, patch, w // patch // merge, merge, patch)
    x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return np.ascontiguousarray(x.reshape(-1, c * tp * patch * patch))


def write_json(path, obj, indent=1):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent)


def write_configs(folder, cfg, ids, processor_class, min_pixels, max_pixels):
    """config.json (no weights file), preprocessor_config.json and generation_config.json of a Qwen folder."""
    cfg.save_pretrained(folder)
    for f in os.listdir(folder):
        if f.endswith(".safetensors"):
            os.remove(os.path.join(folder, f))
    v = cfg.vision_config
    write_json(os.path.join(folder, "preprocessor_config.json"), {
        "image_processor_type": "Qwen2VLImageProcessor", "processor_class": processor_class,
        "do_resize": True, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "image_mean": MEAN, "image_std": STD, "min_pixels": min_pixels, "max_pixels": max_pixels,
        "patch_size": v.patch_size, "temporal_patch_size": v.temporal_patch_size, "merge_size": v.spatial_merge_size, "resample": 3})
    write_json(os.path.join(folder, "generation_config.json"), {
        "bos_token_id": ids[IM_START], "eos_token_id": [ids[IM_END], ids[PAD]], "pad_token_id": ids[PAD]})


def conversation(hf_tok, rows_per_second: int, video_id: int):
    """Two rounds through the chat template, each with a second of video expanded as transformers' processor does:
    the prompt, its ids, the ids tensor [1, T] and the token types (video rows 2)."""
    messages = [{"role": "system", "content": [{"type": "text", "text": "You comment on a live video."}]}]
    for r, line in enumerate(["A man crosses the street.", ""]):
        messages.append({"role": "user", "content": [{"type": "text", "text": f"Time {r}-{r + 1} s."}, {"type": "video"},
                                                       {"type": "text", "text": "Describe what changed."}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": line}]})
    prompt = hf_tok.apply_chat_template(messages, tokenize=False)
    input_ids = hf_tok(prompt.replace(VIDEO, VIDEO * rows_per_second), add_special_tokens=False)["input_ids"]
    assert sum(1 for i in input_ids if i == video_id) == 2 * rows_per_second
    ids_t = torch.tensor([input_ids])
    return prompt, input_ids, ids_t, (ids_t == video_id).int() * 2


def write_reference(folder, script, prompt, input_ids, positions, features, cuts, logits):
    """sightline-reference.json: what the tests compare Sightline with (the last row's logits of each chunk)."""
    write_json(os.path.join(folder, "sightline-reference.json"), {
        "about": f"{script}: transformers (eager) outputs for fixed inputs",
        "frames": {"width": FRAME_W, "height": FRAME_H, "formula": "(x*7 + y*13 + c*29 + f*17 + second*101) % 256"},
        "prompt": prompt,
        "inputIds": input_ids,
        "positions": positions[:, 0, :].tolist(),
        "videoFeatures": flat(features),
        "chunks": cuts,
        "lastLogits": [flat(logits[b - 1]) for b in cuts[1:]],
    }, indent=None)
    sizes = {f: os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(folder) for f in fs}
    print("wrote", folder, sizes, "total", sum(sizes.values()))


def tiny_model(seed: int):
    """The fixture's model, its trained tokenizer, the special ids and the config (the same for a seed)."""
    from transformers import Qwen2VLForConditionalGeneration

    raw = make_tokenizer(288, seed)
    ids = {t: raw.token_to_id(t) for t in SPECIAL}
    cfg = tiny_config(raw.get_vocab_size(), ids)
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration._from_config(cfg, attn_implementation="eager").eval()
    randomize(model, seed)
    return model, raw, ids, cfg


def build(out: str, seed: int) -> None:
    from transformers import PreTrainedTokenizerFast
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    folder = os.path.join(out, "hf-qwen2vl-tiny")
    onnx_dir = os.path.join(folder, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    model, raw, ids, cfg = tiny_model(seed)
    visual, text, lm_head = model.model.visual, model.model.language_model, model.lm_head
    tcfg, vcfg = cfg.text_config, cfg.vision_config
    patch, merge, tp = vcfg.patch_size, vcfg.spatial_merge_size, vcfg.temporal_patch_size

    # ---- the folder's json files
    write_configs(folder, cfg, ids, "Qwen2VLProcessor", (patch * merge) ** 2, MAX_PIXELS)
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token=IM_END, pad_token=PAD)
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(folder)
    tc_path = os.path.join(folder, "tokenizer_config.json")
    tc = json.load(open(tc_path))
    jinja = os.path.join(folder, "chat_template.jinja")
    if os.path.exists(jinja):  # keep the template inside tokenizer_config.json, as transformers.js reads it
        tc["chat_template"] = open(jinja).read()
        os.remove(jinja)
    tc.pop("added_tokens_decoder", None)  # tokenizer.json already lists them
    write_json(tc_path, tc)
    write_json(os.path.join(folder, "tokenizer.json"), json.load(open(os.path.join(folder, "tokenizer.json"))), indent=None)
    for extra in ("special_tokens_map.json",):
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))

    # ---- two seconds of video (2 frames each = one temporal patch group), patchified in Qwen's order
    pixel = torch.from_numpy(np.concatenate([patchify(normalize(test_frames(s)), patch, merge, tp) for s in (0, 1)]))
    grid = torch.tensor([[1, FRAME_H // patch, FRAME_W // patch]] * 2)
    # the order against transformers' own image processor (it tiles one image over the temporal patch): a second
    # whose two frames are the same picture must give its patches exactly
    still = test_frames(0)[:1].repeat(2, axis=0)
    ip = Qwen2VLImageProcessorPil(do_resize=False, image_mean=MEAN, image_std=STD, patch_size=patch,
                                  temporal_patch_size=tp, merge_size=merge)
    hf_px = ip(images=[still[0]], return_tensors="np")
    assert hf_px["image_grid_thw"].tolist() == grid[:1].tolist()
    check("patchify vs transformers' image processor", max_diff(patchify(normalize(still), patch, merge, tp), hf_px["pixel_values"]), 1e-6)
    rows_per_second = (FRAME_H // patch) * (FRAME_W // patch) // merge ** 2

    venc, emb, dec = VisionEncoder(visual, merge).eval(), EmbedTokens(text).eval(), merged_decoder(text, lm_head, tcfg).eval()
    with torch.no_grad():
        feats = venc(pixel, grid)
        ref = visual(pixel, grid_thw=grid).pooler_output
    check("vision wrapper vs transformers' visual", max_diff(feats, ref), 1e-5)

    vpath, epath, dpath = (os.path.join(onnx_dir, f) for f in ("vision_encoder.onnx", "embed_tokens.onnx", "decoder_model_merged.onnx"))
    export(venc, (pixel, grid), vpath, ["pixel_values", "grid_thw"], ["image_features"],
           {"pixel_values": {0: "num_patches"}, "grid_thw": {0: "num_grids"}, "image_features": {0: "num_features"}})
    export(emb, (torch.tensor([[1, 2, 3]]),), epath, ["input_ids"], ["inputs_embeds"],
           {"input_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}})
    layers, kvh, hd = tcfg.num_hidden_layers, tcfg.num_key_value_heads, tcfg.hidden_size // tcfg.num_attention_heads
    d_in, d_out, d_axes = decoder_io(layers)
    ex_past = tuple(torch.randn(2, kvh, 2, hd) for _ in range(2 * layers))
    ex_mask = torch.ones(2, 5, dtype=torch.int64)
    ex_mask[1, 0] = 0
    ex_pos = torch.stack([torch.arange(2, 5), torch.arange(3, 6), torch.arange(4, 7)])[:, None, :].repeat(1, 2, 1)
    export(dec, (torch.randn(2, 3, tcfg.hidden_size), ex_mask, ex_pos) + ex_past, dpath, d_in, d_out, d_axes)

    # the vision graph on one second, and on both seconds at once (two grids), against PyTorch
    half = pixel.shape[0] // 2
    check("vision onnx (one second) vs torch", max_diff(ort_run(vpath, {"pixel_values": pixel[:half].numpy(), "grid_thw": grid[:1].numpy()})[0], ref[:rows_per_second]))
    check("vision onnx (two seconds) vs torch", max_diff(ort_run(vpath, {"pixel_values": pixel.numpy(), "grid_thw": grid.numpy()})[0], ref))

    # ---- a two-round conversation through the template, as transformers' processor expands a video
    prompt, input_ids, ids_t, mm_types = conversation(hf_tok, rows_per_second, ids[VIDEO])
    with torch.no_grad():
        positions, _ = model.model.get_rope_index(ids_t, mm_token_type_ids=mm_types, video_grid_thw=grid)
        logits_hf = model(input_ids=ids_t, pixel_values_videos=pixel, video_grid_thw=grid, mm_token_type_ids=mm_types).logits[0]
        embeds = text.embed_tokens(ids_t)[0]
        embeds[ids_t[0] == ids[VIDEO]] = ref
    seq = len(input_ids)
    cuts = [0, seq // 3, (2 * seq) // 3, seq]
    past = [torch.zeros(1, kvh, 0, hd) for _ in range(2 * layers)]
    for a, b in zip(cuts, cuts[1:]):
        feeds = {"inputs_embeds": embeds[a:b].unsqueeze(0).numpy(), "attention_mask": np.ones((1, b), dtype=np.int64),
                 "position_ids": positions[:, :, a:b].numpy()}
        feeds.update({n: t.numpy() for n, t in zip(d_in[3:], past)})
        with torch.no_grad():
            res = dec(*(torch.from_numpy(feeds[n]) for n in d_in[:3]), *past)
        check(f"chunk {a}-{b}: decoder wrapper vs the whole transformers model", max_diff(res[0][0], logits_hf[a:b]))
        check(f"chunk {a}-{b}: decoder onnx vs the whole transformers model", max_diff(ort_run(dpath, feeds)[0][0], logits_hf[a:b]))
        past = list(res[1:])
    with torch.no_grad():
        check("embed onnx vs torch", max_diff(ort_run(epath, {"input_ids": ids_t[:, :8].numpy()})[0][0], text.embed_tokens(ids_t[0, :8])))

    write_reference(folder, "train/byo/make_qwen2vl_fixture.py", prompt, input_ids, positions, ref, cuts, logits_hf)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args()
    build(a.out, a.seed)


if __name__ == "__main__":
    main()
