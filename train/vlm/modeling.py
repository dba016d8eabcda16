"""The streaming VLM in PyTorch, with the exact graph semantics of docs/model-format.md.

One module serves training (batched, full causal attention over a window) and export (the step graph:
new tokens attend to all past keys/values and causally to each other). Keys are cached after RoPE.
"""
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# The score of a masked key: finite (a fully masked padding row stays finite) and far below any real score.
MASKED_SCORE = -1e9


def rope_cos_sin(position_ids: torch.Tensor, head_dim: int, theta: float):
    """Angles in float64 (exact at large positions), cos/sin cast to float32: [B, T, 1, headDim]."""
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64, device=position_ids.device) / head_dim))
    ang = position_ids.to(torch.float64).unsqueeze(-1) * inv
    ang = torch.cat([ang, ang], dim=-1).unsqueeze(2)
    return torch.cos(ang).to(torch.float32), torch.sin(ang).to(torch.float32)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class DecoderLayer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, hd = c["hiddenSize"], c["headDim"]
        self.nh, self.nkv, self.hd = c["numHeads"], c["numKvHeads"], hd
        self.ln1 = RMSNorm(d, c["rmsNormEps"])
        self.ln2 = RMSNorm(d, c["rmsNormEps"])
        self.q = nn.Linear(d, self.nh * hd, bias=False)
        self.k = nn.Linear(d, self.nkv * hd, bias=False)
        self.v = nn.Linear(d, self.nkv * hd, bias=False)
        self.o = nn.Linear(self.nh * hd, d, bias=False)
        self.gate = nn.Linear(d, c["intermediateSize"], bias=False)
        self.up = nn.Linear(d, c["intermediateSize"], bias=False)
        self.down = nn.Linear(c["intermediateSize"], d, bias=False)

    def qkv(self, x, cos, sin):
        b, t, _ = x.shape
        h = self.ln1(x)
        q = self.q(h).view(b, t, self.nh, self.hd)
        k = self.k(h).view(b, t, self.nkv, self.hd)
        v = self.v(h).view(b, t, self.nkv, self.hd)
        return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin, v

    def mlp_out(self, x, att):
        b, t, _ = x.shape
        x = x + self.o(att.transpose(1, 2).reshape(b, t, self.nh * self.hd))
        h2 = self.ln2(x)
        return x + self.down(F.silu(self.gate(h2)) * self.up(h2))

    def forward_train(self, x, cos, sin):
        """Full causal attention over the whole window (flash/SDPA kernels, GQA expanded)."""
        q, k, v = self.qkv(x, cos, sin)
        rep = self.nh // self.nkv
        k = k.repeat_interleave(rep, dim=2)
        v = v.repeat_interleave(rep, dim=2)
        att = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        return self.mlp_out(x, att)

    def step_weights(self):
        """The step graph's fused weights (export only): one MatMul for q, k and v, with 1/sqrt(headDim) folded
        into q, and one for gate and up. Per-column int8 storage keeps the same values (columns are only
        scaled)."""
        s = 1.0 / math.sqrt(self.hd)
        return torch.cat([self.q.weight * s, self.k.weight, self.v.weight]), torch.cat([self.gate.weight, self.up.weight])

    def forward_step(self, x, cos_qk, sin_qk, rotate, past_k, past_v, bias):
        """Step graph (format 2): the new rows see the past and causally each other, as the additive bias
        [B, 1, 1, T, P+T] (built once for all layers by Decoder.forward) allows. RoPE on q and k together:
        rotate_half is a column permutation (`rotate`, its signs folded into sin_qk). Grouped-query attention
        without repeating K/V: each K/V head's queries are stacked as rows [B, kvHeads, rep*T, headDim], so
        the past is read once per layer instead of copied per query head. Returns the new K (after RoPE), V."""
        b, t, _ = x.shape
        nq, nk, rep = self.nh * self.hd, self.nkv * self.hd, self.nh // self.nkv
        w_qkv, w_gate_up = self.step_weights()
        qk, v = torch.split(F.linear(self.ln1(x), w_qkv), [nq + nk, nk], dim=-1)
        q, k = torch.split(qk * cos_qk + torch.index_select(qk, -1, rotate) * sin_qk, [nq, nk], dim=-1)
        k = k.reshape(b, t, self.nkv, self.hd)
        v = v.reshape(b, t, self.nkv, self.hd)
        kk = torch.cat([past_k, k], dim=1).permute(0, 2, 3, 1)  # [B, kvHeads, headDim, P+T]
        vv = torch.cat([past_v, v], dim=1).transpose(1, 2)  # [B, kvHeads, P+T, headDim]
        qg = q.reshape(b, t, self.nkv, rep, self.hd).permute(0, 2, 3, 1, 4).reshape(b, self.nkv, rep * t, self.hd)
        n = kk.shape[-1]
        scores = torch.matmul(qg, kk).reshape(b, self.nkv, rep, t, n) + bias
        probs = torch.softmax(scores, dim=-1).reshape(b, self.nkv, rep * t, n)
        att = torch.matmul(probs, vv).reshape(b, self.nkv, rep, t, self.hd).permute(0, 3, 1, 2, 4).reshape(b, t, nq)
        x = x + self.o(att)
        gate, up = torch.split(F.linear(self.ln2(x), w_gate_up), [self.gate.out_features, self.up.out_features], dim=-1)
        return x + self.down(F.silu(gate) * up), k, v


class Decoder(nn.Module):
    def __init__(self, c: dict, rope: dict):
        super().__init__()
        self.c, self.rope = c, rope
        self.embed = nn.Embedding(c["vocabSize"], c["hiddenSize"])
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c["numLayers"])])
        self.norm = RMSNorm(c["hiddenSize"], c["rmsNormEps"])
        self.lm_head = nn.Linear(c["hiddenSize"], c["vocabSize"], bias=False)

    def grow_from(self, trained_layers: int) -> None:
        """Layers added on top of a trained model start as the identity (their attention and MLP outputs
        zeroed, so the residual stream passes through unchanged): deeper, yet the same function at first."""
        for layer in self.layers[trained_layers:]:
            nn.init.zeros_(layer.o.weight)
            nn.init.zeros_(layer.down.weight)

    def forward_train(self, inputs_embeds, position_ids):
        cos, sin = rope_cos_sin(position_ids, self.c["headDim"], self.rope["theta"])
        x = inputs_embeds
        for layer in self.layers:
            x = layer.forward_train(x, cos, sin)
        return self.lm_head(self.norm(x))

    def forward(self, inputs_embeds, position_ids, attention_mask, *past):
        """The exported step graph (docs/model-format.md, format 2: batch and attention mask). What every layer
        shares is computed once: RoPE's cos/sin tiled over the q and k heads (rotate_half as a column
        permutation, its signs in sin), and the attention bias. A new
        row sees the past and earlier new rows except columns the attention mask [B, P+T] marks 0 (padding of a
        shorter past or of fewer new rows in a batch), and always itself, so a padding row's softmax has a
        finite term and nothing turns NaN. Masked scores get a large finite negative: exp underflows to
        exactly 0, as with -inf, for every real row."""
        c = self.c
        cos, sin = rope_cos_sin(position_ids, c["headDim"], self.rope["theta"])
        b, t = position_ids.shape
        heads = c["numHeads"] + c["numKvHeads"]
        cos_qk = cos.expand(b, t, heads, c["headDim"]).reshape(b, t, heads * c["headDim"])
        dev = inputs_embeds.device
        half = c["headDim"] // 2
        sign = torch.cat([-torch.ones(half, device=dev), torch.ones(half, device=dev)]).repeat(heads)
        sin_qk = sin.expand(b, t, heads, c["headDim"]).reshape(b, t, heads * c["headDim"]) * sign
        within = torch.cat([torch.arange(half, 2 * half, device=dev), torch.arange(half, device=dev)])
        rotate = (within.unsqueeze(0) + torch.arange(heads, device=dev).unsqueeze(1) * c["headDim"]).reshape(-1)
        p = past[0].shape[1]
        qi = torch.arange(t, device=dev).unsqueeze(1) + p
        kj = torch.arange(p + t, device=dev).unsqueeze(0)
        visible = ((kj <= qi).unsqueeze(0) & (attention_mask > 0).unsqueeze(1)) | (kj == qi).unsqueeze(0)
        bias = torch.zeros(visible.shape, dtype=inputs_embeds.dtype, device=dev)
        bias = bias.masked_fill(~visible, MASKED_SCORE).unsqueeze(1).unsqueeze(1)  # [B, 1, 1, T, P+T]
        x = inputs_embeds
        outs = []
        for i, layer in enumerate(self.layers):
            x, k, v = layer.forward_step(x, cos_qk, sin_qk, rotate, past[2 * i], past[2 * i + 1], bias)
            outs += [k, v]
        return (self.lm_head(self.norm(x)), *outs)


class ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=2, padding=1)
        self.norm1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = nn.BatchNorm2d(cout)

    def forward(self, x):
        x = F.gelu(self.norm1(self.conv1(x)))
        return x + F.gelu(self.norm2(self.conv2(x)))


class GridBlock(nn.Module):
    """A stride-1 residual block on the stride-16 grid: more vision depth where it is cheap (16x9 cells). Its
    last norm starts at zero, so the block starts as the identity and a model resumed without it computes
    exactly what it did before."""

    def __init__(self, w: int):
        super().__init__()
        self.conv1 = nn.Conv2d(w, w, 3, padding=1)
        self.norm1 = nn.BatchNorm2d(w)
        self.conv2 = nn.Conv2d(w, w, 3, padding=1)
        self.norm2 = nn.BatchNorm2d(w)
        nn.init.zeros_(self.norm2.weight)

    def forward(self, x):
        return x + self.norm2(self.conv2(F.gelu(self.norm1(self.conv1(x)))))


class VisionEncoder(nn.Module):
    """CNN to a stride-16 grid, then learned queries attend over the grid: tokensPerFrame tokens per frame,
    projected to the decoder width. Cheap on CPU (a few ms per 256x144 frame)."""

    def __init__(self, v: dict, d: int):
        super().__init__()
        self.v = v
        w = v["width"]
        self.stem = nn.Sequential(nn.Conv2d(3, w // 4, 4, stride=4), nn.BatchNorm2d(w // 4), nn.GELU())
        self.blocks = nn.Sequential(ConvBlock(w // 4, w // 2), ConvBlock(w // 2, w))
        self.grid_blocks = nn.Sequential(*[GridBlock(w) for _ in range(v.get("gridBlocks", 0))])
        gh, gw = v["imageHeight"] // 16, v["imageWidth"] // 16
        self.pos = nn.Parameter(0.02 * torch.randn(1, gh * gw, w))
        self.queries = nn.Parameter(0.02 * torch.randn(1, v["tokensPerFrame"], w))
        self.attn = nn.MultiheadAttention(w, 4, batch_first=True)
        self.ln = nn.LayerNorm(w)
        self.proj = nn.Sequential(nn.Linear(w, d), nn.GELU(), nn.Linear(d, d))
        self.detail = None
        if v.get("detailBranch"):
            # A finer path (stride-2 stem, so a ~2 px ball or a kit colour is not averaged into a 4x4 patch)
            # to the same grid, added through a zero-initialised 1x1 conv: a model resumed from one without
            # it starts out computing exactly what it did before.
            self.detail = nn.Sequential(nn.Conv2d(3, w // 8, 2, stride=2), nn.BatchNorm2d(w // 8), nn.GELU(),
                                        ConvBlock(w // 8, w // 4), ConvBlock(w // 4, w // 2), ConvBlock(w // 2, w))
            self.detail_gate = nn.Conv2d(w, w, 1)
            nn.init.zeros_(self.detail_gate.weight)
            nn.init.zeros_(self.detail_gate.bias)

    def train(self, mode: bool = True):
        """`frozenBatchNorm` (a model rebuilt from an exported folder, train.vlm.import_folder): the BatchNorms hold
        the identity the export folded into the convolutions, and stay in eval mode so training starts from the
        same function (batch statistics would renormalise every layer)."""
        super().train(mode)
        if mode and self.v.get("frozenBatchNorm"):
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, pixel_values):
        x = self.blocks(self.stem(pixel_values))  # [F, w, gh, gw]
        if self.detail is not None:
            x = x + self.detail_gate(self.detail(pixel_values))
        x = self.grid_blocks(x)
        grid = x.flatten(2).transpose(1, 2) + self.pos  # [F, gh*gw, w]
        q = self.queries.expand(grid.shape[0], -1, -1)
        pooled, _ = self.attn(q, grid, grid, need_weights=False)
        return self.proj(self.ln(pooled + q))  # [F, tokensPerFrame, D]


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def read_checkpoint(prefix: str) -> dict:
    """A training checkpoint written as PREFIX.000, PREFIX.001, ... (train.py's save)."""
    from ..parts import read_parts

    return torch.load(io.BytesIO(read_parts(prefix)), map_location="cpu", weights_only=False)


def build_model(cfg: dict, vocab_size: int) -> tuple["Decoder", "VisionEncoder"]:
    """The decoder and vision encoder of a (stage) config, untrained."""
    decoder = Decoder({**cfg["decoder"], "vocabSize": vocab_size}, cfg["rope"])
    return decoder, VisionEncoder(cfg["vision"], cfg["decoder"]["hiddenSize"])


def load_grown(decoder: Decoder, vision: VisionEncoder, ckpt: dict, source: str) -> int:
    """Load a checkpoint into a model that may be larger: decoder layers on top, vision grid blocks or a
    detail branch, each starting as the identity or a no-op, so training resumes from the same function with
    more capacity. Anything else that does not fit is a wrong checkpoint. Returns the trained layer count."""
    old = len({k.split(".")[1] for k in ckpt["decoder"] if k.startswith("layers.")})
    missing, unexpected = decoder.load_state_dict(ckpt["decoder"], strict=False)
    bad = unexpected + [k for k in missing if not (k.startswith("layers.") and int(k.split(".")[1]) >= old)]
    missing_v, unexpected_v = vision.load_state_dict(ckpt["vision"], strict=False)
    bad += unexpected_v + [k for k in missing_v if not k.startswith(("detail", "grid_blocks"))]
    if bad:
        raise SystemExit(f"--resume {source}: weights do not fit this model ({', '.join(bad[:6])})")
    decoder.grow_from(old)
    return old
