"""The clip/caption pairs of a split: which clips exist, the protocol's unique-caption rule, and all frames
of the split on the device with the captions tokenised once."""
import copy

import torch

from .text import pad_rows, token_rows


def clips_of(matches, cfg):
    """(match index, first frame, end frame, caption) per caption clip whose frames were all rendered."""
    fps, f = cfg["render"]["fps"], cfg["video"]["framesPerClip"]
    out = []
    for mi, m in enumerate(matches):
        for c in m["captions"]:
            a, b = int(round(c["start"] * fps)), int(round(c["end"] * fps))
            if b <= len(m["frames"]) and b - a >= f:
                out.append((mi, a, b, c["caption"]))
    return out


def unique_captions(clips, n):
    """The first n clips whose caption text is unique among the chosen ones: two clips with the same
    caption make the true pair of that text ambiguous (the protocol assumes one true clip per text)."""
    seen, out = set(), []
    for c in clips:
        if c[3] not in seen:
            seen.add(c[3])
            out.append(c)
            if len(out) == n:
                break
    return out


class Data:
    """All frames of a split on the GPU as one uint8 tensor; clips as (first global frame, frame count);
    captions tokenised once."""

    def __init__(self, matches, clips, tok, cfg, device):
        total = sum(len(m["frames"]) for m in matches)
        h, w = matches[0]["frames"].shape[1:3]
        self.frames = torch.empty((total, h, w, 3), dtype=torch.uint8, device=device)
        self.offsets, at = [], 0
        for m in matches:
            n = len(m["frames"])
            self.frames[at : at + n].copy_(torch.from_numpy(m["frames"]))
            self.offsets.append(at)
            at += n
        self.f = cfg["video"]["framesPerClip"]
        v = cfg["video"]
        self.mean = torch.tensor(v["mean"], device=device).view(1, 1, 3, 1, 1)
        self.std = torch.tensor(v["std"], device=device).view(1, 1, 3, 1, 1)
        self.pad = tok.token_to_id("<|pad|>")
        self.device = device
        self._set_clips(clips, tok, cfg)

    def _set_clips(self, clips, tok, cfg):
        self.start = torch.tensor([self.offsets[mi] + a for mi, a, _, _ in clips], device=self.device)
        self.count = torch.tensor([b - a for _, a, b, _ in clips], device=self.device)
        self.captions = [c for *_, c in clips]
        self.n = len(clips)
        self.match_of = [mi for mi, *_ in clips]
        first_of = {}
        self.caption_id = torch.tensor([first_of.setdefault(c, i) for i, c in enumerate(self.captions)], device=self.device)
        # Captions that tell events in order (versions 2-3: "A, then B"): the clip played backwards no longer
        # matches them, so it can serve as a negative (train.py, optim.orderNegatives).
        self.ordered = torch.tensor([", then " in c for c in self.captions], device=self.device)
        rows, self.cut = token_rows(tok, self.captions, cfg["text"]["maxTokens"])
        ids, mask = pad_rows(tok, rows)
        self.ids, self.mask = ids.to(self.device), mask.to(self.device)
        self.len = self.mask.sum(1)

    def with_clips(self, clips, tok, cfg):
        """The same matches' frames (shared, not copied) with other clips and captions: another caption version."""
        other = copy.copy(self)
        other._set_clips(clips, tok, cfg)
        return other

    def pixels(self, idx, jitter=False, gen=None):
        """idx [B] -> [B, F, 3, H, W] normalised. Frames at the centres of F equal parts of the clip, or
        (training) at a random point of each part."""
        b = idx.shape[0]
        seg = self.count[idx].float()[:, None] / self.f
        u = torch.rand((b, self.f), device=self.device, generator=gen) if jitter else torch.full((b, self.f), 0.5, device=self.device)
        pos = (torch.arange(self.f, device=self.device)[None] + u) * seg
        first = self.start[idx][:, None]
        fi = torch.minimum(first + pos.long(), first + self.count[idx][:, None] - 1)
        x = self.frames[fi].permute(0, 1, 4, 2, 3).float() / 255.0
        return (x - self.mean) / self.std

    def text(self, idx):
        t = int(self.len[idx].max())
        return self.ids[idx, :t], self.mask[idx, :t]
