"""CLIP-style dual encoder with a Prompt Cube video tower (Prompt Switch, ICCV 2023), and the mean-pooling
baseline (same towers, no cube). Facts followed from the paper: prompt tokens x frames appended after CLS +
patches; before each layer's self-attention the prompt block is switched across (frame, slot) so prompts
carry information between frames while attention stays per frame; the frame feature is the frame's CLS
attending to all prompt tokens of the clip through an attention layer whose output projection starts at
zero; then projection, L2 norm, mean over frames.

Attention is written out (one qkv projection + scaled_dot_product_attention) instead of
nn.MultiheadAttention: no eval-time fast path that differs from training, key-padding bias that broadcasts
over heads and queries (no repeat_interleave in the graph), and an ONNX export with only reshape/transpose
over dynamic batch, frame and token axes."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# Additive bias for padded keys. Finite (not -inf) so a bf16 softmax never sees inf - inf.
MASKED = -1e9


class Attention(nn.Module):
    """Multi-head attention, batch first. self(q) or cross(q, kv); bias broadcasts to [B, H, Tq, Tk]."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.h, self.hd = heads, d // heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x, kv=None, bias=None):
        kv = x if kv is None else kv
        b, tq, tk = x.shape[0], x.shape[1], kv.shape[1]
        q = self.q(x).reshape(b, tq, self.h, self.hd).transpose(1, 2)
        k, v = self.kv(kv).chunk(2, dim=-1)
        k = k.reshape(b, tk, self.h, self.hd).transpose(1, 2)
        v = v.reshape(b, tk, self.h, self.hd).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.out(o.transpose(1, 2).reshape(b, tq, self.h * self.hd))


class Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, bias=None):
        x = x + self.attn(self.ln1(x), bias=bias)
        return x + self.mlp(self.ln2(x))


def prompt_switch(prompts: torch.Tensor) -> torch.Tensor:
    """[B, F, P, D] -> [B, F, P, D]: read the block as a (frame x slot) grid, transpose it and deal the tokens
    back out P per frame. For P == F this is the paper's transpose (slot s of frame f <-> slot f of frame s);
    for any F it is a permutation that sends each frame's slots to other frames. Written as
    reshape/transpose (no in-place scatter), so the ONNX export works for any frame count."""
    b, f, p, d = prompts.shape
    return prompts.transpose(1, 2).reshape(b, f, p, d)


class VideoTower(nn.Module):
    def __init__(self, c: dict, use_cube: bool):
        super().__init__()
        d, self.use_cube, self.p = c["width"], use_cube, c["promptTokens"]
        self.patch = nn.Conv2d(3, d, c["patchSize"], stride=c["patchSize"])
        n = (c["imageHeight"] // c["patchSize"]) * (c["imageWidth"] // c["patchSize"])
        self.pos = nn.Parameter(0.02 * torch.randn(1, 1 + n, d))
        self.cls = nn.Parameter(0.02 * torch.randn(1, 1, d))
        self.frame_pos = nn.Parameter(0.02 * torch.randn(1, c["maxFrames"], 1, d))
        # Where frame positions go. The Prompt Cube's prompts always get them (that is how the cube tells frames
        # apart). The baseline's frame tokens get them unless `baselineFramePos` is false: CLIP4Clip's meanP
        # encodes each frame alone, so the paper's baseline cannot tell frame order; with them it can.
        self.frame_pos_on_tokens = use_cube or c.get("baselineFramePos", True)
        self.ln_pre = nn.LayerNorm(d)
        self.blocks = nn.ModuleList([Block(d, c["heads"]) for _ in range(c["layers"])])
        self.ln_post = nn.LayerNorm(d)
        if use_cube:
            # One learned slot vector per prompt slot, shared by all frames; frame_pos tells the frames apart.
            self.prompts = nn.Parameter(0.02 * torch.randn(1, 1, self.p, d))
            self.agg = Attention(d, c["heads"])
            nn.init.zeros_(self.agg.out.weight)
            nn.init.zeros_(self.agg.out.bias)
        self.proj = nn.Linear(d, c["embedDim"], bias=False)

    def forward(self, pixel_values: torch.Tensor, return_memory: bool = False):
        """pixel_values [B, F, 3, H, W] -> clip embedding [B, E] (L2-normalised). With return_memory also the
        tokens the training-only caption head reads: the clip's prompt tokens [B, F*P, d] (cube) or the
        frames' CLS tokens [B, F, d] (baseline)."""
        b, f = pixel_values.shape[0], pixel_values.shape[1]
        x = self.patch(pixel_values.flatten(0, 1)).flatten(2).transpose(1, 2)  # [BF, N, d]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = x.reshape(b, f, x.shape[1], x.shape[2])
        if self.frame_pos_on_tokens:
            x = x + self.frame_pos[:, :f]
        if self.use_cube:
            x = torch.cat([x, self.prompts.expand(b, f, -1, -1) + self.frame_pos[:, :f]], dim=2)
        x = self.ln_pre(x)
        n, d = x.shape[2], x.shape[3]
        for block in self.blocks:
            if self.use_cube:
                x = torch.cat([x[:, :, : n - self.p], prompt_switch(x[:, :, n - self.p :])], dim=2)
            x = block(x.flatten(0, 1)).reshape(b, f, n, d)
        x = self.ln_post(x)
        cls = x[:, :, 0]  # [B, F, d]
        if self.use_cube:
            prompts = x[:, :, n - self.p :].reshape(b, f * self.p, d)
            frames = cls + self.agg(cls, prompts)
            memory = prompts
        else:
            frames, memory = cls, cls
        frames = F.normalize(self.proj(frames), dim=-1)
        clip = F.normalize(frames.mean(dim=1), dim=-1)
        return (clip, memory) if return_memory else clip


class TextTower(nn.Module):
    def __init__(self, c: dict, vocab: int):
        super().__init__()
        d = c["width"]
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, c["maxTokens"], d))
        self.blocks = nn.ModuleList([Block(d, c["heads"]) for _ in range(c["layers"])])
        self.ln = nn.LayerNorm(d)
        self.proj = nn.Linear(d, c["embedDim"], bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """input_ids [B, T] (<|bos|> text <|eos|>, right-padded with <|pad|>), attention_mask [B, T] 1 for
        tokens -> [B, E]: padded keys masked in every layer, masked mean over tokens, projection, L2 norm."""
        x = self.embed(input_ids) + self.pos[:, : input_ids.shape[1]]
        m = attention_mask.to(x.dtype)
        bias = ((1.0 - m) * MASKED)[:, None, None, :]  # [B, 1, 1, T]: broadcasts over heads and queries
        for block in self.blocks:
            x = block(x, bias)
        x = self.ln(x)
        m = m.unsqueeze(-1)
        return F.normalize(self.proj((x * m).sum(1) / m.sum(1).clamp(min=1)), dim=-1)


class CaptionHead(nn.Module):
    """Auxiliary captioning loss (training only): a small decoder reads the clip's prompt tokens
    (memory [B, F*P, d]) and predicts the caption, pushing the prompts to carry what the caption says."""

    def __init__(self, d: int, vocab: int, max_tokens: int, heads: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, max_tokens, d))
        layer = nn.TransformerDecoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.dec = nn.TransformerDecoder(layer, 1)
        self.ln = nn.LayerNorm(d)
        self.out = nn.Linear(d, vocab)

    def forward(self, memory, input_ids):
        assert memory.dim() == 3 and memory.shape[-1] == self.embed.embedding_dim, memory.shape
        t = input_ids.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf"), device=input_ids.device), 1)
        h = self.dec(self.embed(input_ids) + self.pos[:, :t], memory, tgt_mask=mask, tgt_is_causal=True)
        return self.out(self.ln(h))
