"""Caption tokenisation shared by training, evaluation and export: <|bos|> ids <|eos|>, right-padded with
<|pad|> to the longest row, attention_mask 1 on real tokens (bos and eos included)."""
import torch

SPECIAL = ["<|pad|>", "<|bos|>", "<|eos|>"]


def train_tokenizer(texts, vocab_size):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def token_rows(tok, texts, max_tokens):
    """Per text: [bos] + ids (cut to max_tokens - 2) + [eos]. Returns the rows and how many were cut."""
    bos, eos = tok.token_to_id("<|bos|>"), tok.token_to_id("<|eos|>")
    rows, cut = [], 0
    for enc in tok.encode_batch(list(texts)):
        ids = enc.ids
        if len(ids) > max_tokens - 2:
            cut += 1
            ids = ids[: max_tokens - 2]
        rows.append([bos] + ids + [eos])
    return rows, cut


def pad_rows(tok, rows):
    """-> input_ids [B, T] int64 (pad = <|pad|>), attention_mask [B, T] int64."""
    pad = tok.token_to_id("<|pad|>")
    t = max(len(r) for r in rows)
    ids = torch.full((len(rows), t), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), t), dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r)] = torch.tensor(r)
        mask[b, : len(r)] = 1
    return ids, mask
