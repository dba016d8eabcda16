"""CLIP-style dual encoder with a Prompt Cube video tower (Prompt Switch, ICCV 2023), and the mean-pooling
baseline (same towers, no cube). Facts followed from the paper: prompt tokens x frames appended after CLS +
patches; before each layer's self-attention the prompt block is switched across (frame, slot) so prompts
carry information between frames while attention stays per frame; the frame feature is the frame's CLS
attending to all prompt tokens of the clip through an attention layer whose output projection starts at
zero; then projection, L2 norm, mean over frames."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask=None):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


def prompt_switch(prompts: torch.Tensor) -> torch.Tensor:
    """[B, F, P, D] -> [B, F, P, D]: read the block as a (frame x slot) grid, transpose it and deal the tokens
    back out P per frame. For P == F this is the paper's transpose; for any F it is a permutation that sends
    each frame's slots to other frames. Written as reshape/transpose (no in-place scatter), so the ONNX export
    works for any frame count."""
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
        self.ln_pre = nn.LayerNorm(d)
        self.blocks = nn.ModuleList([Block(d, c["heads"]) for _ in range(c["layers"])])
        self.ln_post = nn.LayerNorm(d)
        if use_cube:
            self.prompts = nn.Parameter(0.02 * torch.randn(1, 1, self.p, d))
            self.agg = nn.MultiheadAttention(d, c["heads"], batch_first=True)
            nn.init.zeros_(self.agg.out_proj.weight)
            nn.init.zeros_(self.agg.out_proj.bias)
        self.proj = nn.Linear(d, c["embedDim"], bias=False)

    def forward(self, pixel_values: torch.Tensor, return_prompts: bool = False):
        """pixel_values [B, F, 3, H, W] -> clip embedding [B, E] (L2-normalised)."""
        b, f = pixel_values.shape[:2]
        x = self.patch(pixel_values.flatten(0, 1)).flatten(2).transpose(1, 2)  # [BF, N, d]
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = x.view(b, f, x.shape[1], x.shape[2]) + self.frame_pos[:, :f]
        if self.use_cube:
            x = torch.cat([x, self.prompts.expand(b, f, -1, -1) + self.frame_pos[:, :f]], dim=2)
        x = self.ln_pre(x)
        n = x.shape[2]
        for block in self.blocks:
            if self.use_cube:
                x = torch.cat([x[:, :, : n - self.p], prompt_switch(x[:, :, n - self.p :])], dim=2)
            x = block(x.flatten(0, 1)).view(b, f, n, -1)
        x = self.ln_post(x)
        cls = x[:, :, 0]  # [B, F, d]
        prompts = x[:, :, n - self.p :].reshape(b, f * self.p, -1) if self.use_cube else None
        if self.use_cube:
            frames = cls + self.agg(cls, prompts, prompts, need_weights=False)[0]
        else:
            frames = cls
        frames = F.normalize(self.proj(frames), dim=-1)
        clip = F.normalize(frames.mean(dim=1), dim=-1)
        return (clip, prompts if prompts is not None else x[:, :, 0]) if return_prompts else clip


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
        """input_ids [B, T] (padded), attention_mask [B, T] 1 for tokens -> [B, E]: masked mean, L2 norm."""
        x = self.embed(input_ids) + self.pos[:, : input_ids.shape[1]]
        pad = attention_mask == 0
        bias = torch.zeros(pad.shape, dtype=x.dtype, device=x.device).masked_fill(pad, float("-inf"))
        bias = bias[:, None, :].expand(-1, input_ids.shape[1], -1)
        bias = bias.repeat_interleave(self.blocks[0].attn.num_heads, dim=0)
        for block in self.blocks:
            x = block(x, bias)
        x = self.ln(x)
        m = attention_mask.unsqueeze(-1).to(x.dtype)
        return F.normalize(self.proj((x * m).sum(1) / m.sum(1).clamp(min=1)), dim=-1)


class CaptionHead(nn.Module):
    """Auxiliary captioning loss (training only): a small decoder reads the clip's prompt tokens and
    predicts the caption, pushing the prompts to carry what the caption says."""

    def __init__(self, d: int, vocab: int, max_tokens: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(0.02 * torch.randn(1, max_tokens, d))
        layer = nn.TransformerDecoderLayer(d, 4, 4 * d, batch_first=True, norm_first=True)
        self.dec = nn.TransformerDecoder(layer, 1)
        self.out = nn.Linear(d, vocab)

    def forward(self, memory, input_ids):
        t = input_ids.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf"), device=input_ids.device), 1)
        h = self.dec(self.embed(input_ids) + self.pos[:, :t], memory, tgt_mask=mask)
        return self.out(h)
