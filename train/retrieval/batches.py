"""Which clips make a training batch.

Plain (the recipe of sightline-retrieval-v1, unchanged): a fresh permutation of the training clips each
epoch, cut into consecutive batches. Random batches of 256 out of 15,600 clips almost never hold two clips of
the same match and minute, yet those are the clips a test query must be told apart from (same teams, score
and minute; with version-2 captions often the same things in another order), so the contrastive loss never
asks for what decides the test.

Hard negatives (`optim.hardNegatives` {"clipsPerGroup": g, "share": s}): each batch also holds
round(batch * s / g) runs of g consecutive clips of one match, the rest from the permutation. Runs and the
permutation may pick a clip twice, and neighbouring clips can share a caption: `same_caption` masks such
pairs out of the loss, as neither is a negative of the other.
"""
import torch


class Batches:
    def __init__(self, match_of, batch_size, gen, hard=None):
        """match_of: the match index of each clip, clips in match and time order. gen: a CPU torch.Generator."""
        self.n, self.bs, self.gen = len(match_of), batch_size, gen
        self.perm, self.at = torch.randperm(self.n, generator=gen), 0
        self.runs, self.g = 0, 0
        if hard:
            self.g = int(hard["clipsPerGroup"])
            self.runs = round(batch_size * float(hard["share"]) / self.g)
            # First clips of the runs of g consecutive clips that stay within one match.
            starts = [i for i in range(self.n - self.g + 1) if match_of[i] == match_of[i + self.g - 1]]
            self.starts = torch.tensor(starts, dtype=torch.long)
            assert self.runs * self.g <= batch_size and len(starts) > 0, (self.runs, self.g, len(starts))

    def next(self):
        """Clip indices of the next batch (CPU, int64)."""
        r = self.bs - self.runs * self.g
        if self.at + r > self.n:
            self.perm, self.at = torch.randperm(self.n, generator=self.gen), 0
        rand = self.perm[self.at : self.at + r]
        self.at += r
        if self.runs == 0:
            return rand
        first = self.starts[torch.randint(len(self.starts), (self.runs,), generator=self.gen)]
        runs = (first[:, None] + torch.arange(self.g)[None]).reshape(-1)
        return torch.cat([runs, rand])


def same_caption(caption_ids):
    """[B, B] bool: True where two different rows of the batch carry the same caption (not negatives)."""
    same = caption_ids[:, None] == caption_ids[None, :]
    return same & ~torch.eye(len(caption_ids), dtype=torch.bool, device=caption_ids.device)
