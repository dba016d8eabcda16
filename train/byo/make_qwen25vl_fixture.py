"""A tiny random-weight Qwen2.5-VL in the ONNX layout of transformers.js, for issue 21's tests.

One command, from the checkout root, after the Qwen2-VL fixture (CPU is enough; the same packages):
    python3 -m train.byo.make_qwen25vl_fixture --out test/fixtures/models

Qwen2.5-VL's language model is Qwen2-VL's (the same decoder layers and multimodal RoPE); what differs is the
vision tower (RMSNorm, a gated MLP, and attention inside windows of `window_size` pixels except in the
`fullatt_block_indexes` blocks) and the positions of a video's later temporal groups (spaced by
tokens_per_second x seconds per group). So this fixture is transformers' own Qwen2_5_VLForConditionalGeneration
whose language model carries the Qwen2-VL fixture's weights (same seed), and the folder keeps only what differs:
    OUT/hf-qwen25vl-tiny/config.json, preprocessor_config.json, generation_config.json
    OUT/hf-qwen25vl-tiny/onnx/vision_encoder.onnx   pixel_values [patches, C*tp*p*p], image_grid_thw [n, 3] int64
                                                    -> image_features [patches / merge^2, D]
    OUT/hf-qwen25vl-tiny/sightline-reference.json   the whole transformers model's outputs for fixed inputs
The tests add the Qwen2-VL fixture's tokenizer.json, tokenizer_config.json, onnx/embed_tokens.onnx and
onnx/decoder_model_merged.onnx to make the full layout; before writing, this script checks those two graphs
against the Qwen2.5-VL model's whole forward (videos, its own get_rope_index positions), <= 1e-4.
"""
import argparse
import json
import os

import numpy as np
import torch
import torch.nn as nn

from train.byo.make_qwen2vl_fixture import (FRAME_H, FRAME_W, IM_END, IM_START, MAX_PIXELS, PAD, VIDEO, check,
                                            conversation, export, normalize, patchify, randomize, rotate_half,
                                            test_frames, tiny_model, write_configs, write_reference)
from train.byo.make_vlm_fixtures import max_diff, ort_run

# transformers.js names the grid input of Qwen2.5-VL's vision graph so (Qwen2-VL's is grid_thw)
GRID = "image_grid_thw"

WINDOW = 16  # pixels: 2 x 2 merged units, so the reference frame's 3 x 4 units fall into windows of 4, 2, 4 and 2


class VisionEncoder(nn.Module):
    """pixel_values [patches, C*tp*p*p] in the processor's order, grid_thw [n, 3] -> image_features.
    Written from model.visual's modules. transformers reorders the merged units window by window, attends inside
    each window (or each temporal group in the full-attention blocks) and orders the merger's output back; here the
    rows stay in the processor's order and a mask keeps the same pairs, which gives the same rows (attention does
    not depend on the order of its keys; norms and MLPs act row by row)."""

    def __init__(self, visual, merge: int, window_units: int):
        super().__init__()
        self.visual, self.merge, self.window_units = visual, merge, window_units

    def forward(self, pixel_values, grid_thw):
        v, m, wu = self.visual, self.merge, self.window_units
        x = v.patch_embed(pixel_values)
        n = x.shape[0]
        h, w = grid_thw[0, 1], grid_thw[0, 2]
        j = torch.arange(n, device=x.device)
        group, k = j // (h * w), j % (h * w)
        block, inner = k // (m * m), k % (m * m)
        by, bx = block // (w // m), block % (w // m)
        hpos, wpos = by * m + inner // m, bx * m + inner % m
        inv = v.rotary_pos_emb.inv_freq
        freqs = torch.cat([hpos[:, None].float() * inv, wpos[:, None].float() * inv], dim=-1)
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        window = (by // wu) * ((w // m + wu - 1) // wu) + bx // wu
        same_group = group[:, None] == group[None, :]
        same_window = same_group & (window[:, None] == window[None, :])
        zero, off = torch.zeros((), dtype=x.dtype), torch.full((), -1e9, dtype=x.dtype)
        full_bias, window_bias = torch.where(same_group, zero, off), torch.where(same_window, zero, off)
        for i, blk in enumerate(v.blocks):
            a = blk.attn
            y = blk.norm1(x)
            q, kk, vv = a.qkv(y).reshape(n, 3, a.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
            q, kk = q * cos + rotate_half(q) * sin, kk * cos + rotate_half(kk) * sin
            q, kk, vv = (t.transpose(0, 1) for t in (q, kk, vv))  # [heads, n, hd]
            bias = full_bias if i in v.fullatt_block_indexes else window_bias
            scores = torch.matmul(q, kk.transpose(1, 2)) * a.scaling + bias
            o = torch.matmul(torch.softmax(scores, dim=-1), vv).transpose(0, 1).reshape(n, -1)
            x = x + a.proj(o)
            x = x + blk.mlp(blk.norm2(x))
        return v.merger(x)


def tiny_config(qwen2_cfg, ids):
    from transformers import Qwen2_5_VLConfig

    text = qwen2_cfg.text_config.to_dict()
    for key in ("model_type", "architectures", "transformers_version", "dtype", "torch_dtype"):
        text.pop(key, None)
    vision = dict(depth=2, hidden_size=8, intermediate_size=16, num_heads=1, out_hidden_size=text["hidden_size"],
                  in_channels=3, patch_size=4, spatial_merge_size=2, temporal_patch_size=2, window_size=WINDOW,
                  fullatt_block_indexes=[1], tokens_per_second=2)
    return Qwen2_5_VLConfig(text_config=text, vision_config=vision, image_token_id=qwen2_cfg.image_token_id,
                            video_token_id=qwen2_cfg.video_token_id, vision_start_token_id=qwen2_cfg.vision_start_token_id,
                            vision_end_token_id=qwen2_cfg.vision_end_token_id, tie_word_embeddings=False)


def build(out: str, qwen2_folder: str, seed: int) -> None:
    from transformers import PreTrainedTokenizerFast, Qwen2_5_VLForConditionalGeneration

    folder = os.path.join(out, "hf-qwen25vl-tiny")
    onnx_dir = os.path.join(folder, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    qwen2, raw, ids, qcfg = tiny_model(seed)
    cfg = tiny_config(qcfg, ids)
    torch.manual_seed(seed + 1)
    model = Qwen2_5_VLForConditionalGeneration._from_config(cfg, attn_implementation="eager").eval()
    randomize(model, seed + 1)
    # the language model (and its head) is the Qwen2-VL fixture's
    model.model.language_model.load_state_dict(qwen2.model.language_model.state_dict())
    model.lm_head.load_state_dict(qwen2.lm_head.state_dict())
    visual, text = model.model.visual, model.model.language_model
    vcfg = cfg.vision_config
    patch, merge, tp = vcfg.patch_size, vcfg.spatial_merge_size, vcfg.temporal_patch_size

    write_configs(folder, cfg, ids, "Qwen2_5_VLProcessor", (patch * merge) ** 2, MAX_PIXELS)

    # ---- two seconds of video at 2 frames a second: one temporal group each
    pixel = torch.from_numpy(np.concatenate([patchify(normalize(test_frames(s)), patch, merge, tp) for s in (0, 1)]))
    grid = torch.tensor([[1, FRAME_H // patch, FRAME_W // patch]] * 2)
    rows_per_second = (FRAME_H // patch) * (FRAME_W // patch) // merge ** 2
    venc = VisionEncoder(visual, merge, WINDOW // patch // merge).eval()
    with torch.no_grad():
        feats = venc(pixel, grid)
        ref = visual(pixel, grid_thw=grid).pooler_output
    check("vision wrapper vs transformers' visual (windows reordered there, masked here)", max_diff(feats, ref), 1e-5)
    vpath = os.path.join(onnx_dir, "vision_encoder.onnx")
    export(venc, (pixel, grid), vpath, ["pixel_values", GRID], ["image_features"],
           {"pixel_values": {0: "num_patches"}, GRID: {0: "num_grids"}, "image_features": {0: "num_features"}})
    half = pixel.shape[0] // 2
    check("vision onnx (one second) vs torch", max_diff(ort_run(vpath, {"pixel_values": pixel[:half].numpy(), GRID: grid[:1].numpy()})[0], ref[:rows_per_second]))
    check("vision onnx (two seconds) vs torch", max_diff(ort_run(vpath, {"pixel_values": pixel.numpy(), GRID: grid.numpy()})[0], ref))

    # ---- the Qwen2-VL fixture's decoder and embeddings against this model's whole forward
    hf_tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(qwen2_folder, "tokenizer.json"), eos_token=IM_END, pad_token=PAD)
    hf_tok.chat_template = json.load(open(os.path.join(qwen2_folder, "tokenizer_config.json")))["chat_template"]
    prompt, input_ids, ids_t, mm_types = conversation(hf_tok, rows_per_second, ids[VIDEO])
    per_group = torch.tensor([tp / 2.0] * 2)  # seconds a temporal group spans at 2 frames a second
    with torch.no_grad():
        positions, _ = model.model.get_rope_index(ids_t, mm_token_type_ids=mm_types, video_grid_thw=grid, second_per_grid_ts=per_group)
        logits_hf = model(input_ids=ids_t, pixel_values_videos=pixel, video_grid_thw=grid, second_per_grid_ts=per_group,
                          mm_token_type_ids=mm_types).logits[0]
        embeds = text.embed_tokens(ids_t)[0]
        embeds[ids_t[0] == ids[VIDEO]] = ref
    dpath, epath = (os.path.join(qwen2_folder, "onnx", f) for f in ("decoder_model_merged.onnx", "embed_tokens.onnx"))
    tcfg = cfg.text_config
    layers, kvh, hd = tcfg.num_hidden_layers, tcfg.num_key_value_heads, tcfg.hidden_size // tcfg.num_attention_heads
    seq = len(input_ids)
    cuts = [0, seq // 3, (2 * seq) // 3, seq]
    past = {f"past_key_values.{i}.{kv}": np.zeros((1, kvh, 0, hd), dtype=np.float32) for i in range(layers) for kv in ("key", "value")}
    for a, b in zip(cuts, cuts[1:]):
        feeds = {"inputs_embeds": embeds[a:b].unsqueeze(0).numpy(), "attention_mask": np.ones((1, b), dtype=np.int64),
                 "position_ids": positions[:, :, a:b].numpy(), **past}
        res = ort_run(dpath, feeds)
        check(f"chunk {a}-{b}: Qwen2-VL fixture's decoder onnx vs the whole Qwen2.5-VL model", max_diff(res[0][0], logits_hf[a:b]))
        past = {n: res[1 + i] for i, n in enumerate(past)}
    with torch.no_grad():
        check("Qwen2-VL fixture's embed onnx vs torch", max_diff(ort_run(epath, {"input_ids": ids_t[:, :8].numpy()})[0][0], text.embed_tokens(ids_t[0, :8])))

    write_reference(folder, "train/byo/make_qwen25vl_fixture.py", prompt, input_ids, positions, ref, cuts, logits_hf)


# Qwen2.5-VL-3B-Instruct's shapes (its config.json), for the cost figures of docs/byo-models.md.
REAL_TEXT = dict(hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16,
                 num_key_value_heads=2, vocab_size=151936, max_position_embeddings=128000, rms_norm_eps=1e-6,
                 rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]})
REAL_VISION = dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=2048, in_channels=3,
                   patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                   fullatt_block_indexes=[7, 15, 23, 31], tokens_per_second=2)


def build_real(out: str, qwen2_folder: str, text_shape: dict, vision_shape: dict, name: str) -> None:
    """The three graphs at real shapes with transformers' initial (random) weights and the tiny fixture's
    tokenizer (the config keeps the real vocabulary size); weights in external files. No references: for timing."""
    import shutil

    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    from train.byo.make_qwen2vl_fixture import SPECIAL, V_END, V_START, IMAGE, merged_decoder
    from train.byo.make_vlm_fixtures import EmbedTokens, decoder_io as vlm_decoder_io

    folder = os.path.join(out, name)
    onnx_dir = os.path.join(folder, "onnx")
    os.makedirs(onnx_dir, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(qwen2_folder, f), os.path.join(folder, f))
    vocab = json.load(open(os.path.join(qwen2_folder, "tokenizer.json")))["added_tokens"]
    ids = {t["content"]: t["id"] for t in vocab if t["content"] in SPECIAL}
    text = dict(text_shape, bos_token_id=ids[IM_START], eos_token_id=ids[IM_END], pad_token_id=ids[PAD], tie_word_embeddings=False)
    cfg = Qwen2_5_VLConfig(text_config=text, vision_config=vision_shape, image_token_id=ids[IMAGE], video_token_id=ids[VIDEO],
                           vision_start_token_id=ids[V_START], vision_end_token_id=ids[V_END], tie_word_embeddings=False)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device), torch.no_grad():
        model = Qwen2_5_VLForConditionalGeneration._from_config(cfg, attn_implementation="eager").eval()
    vcfg, tcfg = cfg.vision_config, cfg.text_config
    patch, merge, tp = vcfg.patch_size, vcfg.spatial_merge_size, vcfg.temporal_patch_size
    write_configs(folder, cfg, ids, "Qwen2_5_VLProcessor", 3136, 12845056)
    side = 336 // patch  # Sightline's default Qwen frame, in patches
    pixel = torch.randn(side * side, 3 * tp * patch * patch, device=device)
    grid = torch.tensor([[1, side, side]], device=device)
    venc = VisionEncoder(model.model.visual, merge, vcfg.window_size // patch // merge).eval()
    emb, dec = EmbedTokens(model.model.language_model).eval(), merged_decoder(model.model.language_model, model.lm_head, tcfg).eval()
    layers, kvh, hd = tcfg.num_hidden_layers, tcfg.num_key_value_heads, tcfg.hidden_size // tcfg.num_attention_heads
    d_in, d_out, d_axes = vlm_decoder_io(layers, position_axes={1: "batch_size", 2: "sequence_length"})
    ex_past = tuple(torch.randn(2, kvh, 2, hd, device=device) for _ in range(2 * layers))
    ex_mask = torch.ones(2, 5, dtype=torch.int64, device=device)
    ex_pos = torch.arange(2, 5, device=device)[None, None, :].repeat(3, 2, 1)
    jobs = [(venc, (pixel, grid), "vision_encoder.onnx", ["pixel_values", GRID], ["image_features"],
             {"pixel_values": {0: "num_patches"}, GRID: {0: "num_grids"}, "image_features": {0: "num_features"}}),
            (emb, (torch.tensor([[1, 2, 3]], device=device),), "embed_tokens.onnx", ["input_ids"], ["inputs_embeds"],
             {"input_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}}),
            (dec, (torch.randn(2, 3, tcfg.hidden_size, device=device), ex_mask, ex_pos) + ex_past, "decoder_model_merged.onnx", d_in, d_out, d_axes)]
    import onnx

    for module, args, file, inputs, outputs, axes in jobs:
        path = os.path.join(onnx_dir, file)
        with torch.no_grad():
            torch.onnx.export(module, args, path, dynamo=False, input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=17)
        m = onnx.load(path)  # one external data file per graph, as transformers.js folders have
        for f in os.listdir(onnx_dir):
            if f not in ("vision_encoder.onnx", "embed_tokens.onnx", "decoder_model_merged.onnx") and not f.endswith(".onnx_data"):
                os.remove(os.path.join(onnx_dir, f))
        if os.path.exists(path + "_data"):  # onnx appends to an existing data file
            os.remove(path + "_data")
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location=file + "_data", size_threshold=1024)
        print("exported", file, flush=True)
    print("wrote", folder, {f: os.path.getsize(os.path.join(onnx_dir, f)) for f in sorted(os.listdir(onnx_dir))})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--qwen2vl", default="test/fixtures/models/hf-qwen2vl-tiny", help="the Qwen2-VL fixture whose language model this one shares")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--real-size", action="store_true", help="OUT/hf-qwen25vl-3b-random: Qwen2.5-VL-3B's shapes, random weights (~15 GB), no references")
    a = ap.parse_args()
    if a.real_size:
        build_real(a.out, a.qwen2vl, REAL_TEXT, REAL_VISION, "hf-qwen25vl-3b-random")
    else:
        build(a.out, a.qwen2vl, a.seed)


if __name__ == "__main__":
    main()
