"""Export the retrieval towers as ONNX with config.json and tokenizer.json (the layout src/search loads)."""
import json
import os

import numpy as np
import torch


class _Video(torch.nn.Module):
    def __init__(self, tower):
        super().__init__()
        self.tower = tower

    def forward(self, pixel_values):
        return self.tower(pixel_values)


def export_retrieval(video, text, tok, cfg, name, use_cube, out):
    os.makedirs(out, exist_ok=True)
    video, text = video.float().cpu().eval(), text.float().cpu().eval()
    v = cfg["video"]
    torch.manual_seed(0)
    # Export with 5 frames so the frame axis is not specialised to framesPerClip.
    pix = torch.rand(2, 5, 3, v["imageHeight"], v["imageWidth"]) * 2 - 1
    ids = torch.tensor([tok.encode("red shoot").ids[:3] + [0], tok.encode("a goal for blue").ids[:4]])
    ids = ids.clamp(min=0)
    mask = (ids != tok.token_to_id("<|pad|>")).long()
    vid_path, txt_path = os.path.join(out, "video.onnx"), os.path.join(out, "text.onnx")
    torch.onnx.export(_Video(video), (pix,), vid_path, input_names=["pixel_values"], output_names=["video_embeds"],
                      dynamic_axes={"pixel_values": {0: "B", 1: "F"}, "video_embeds": {0: "B"}}, opset_version=17, dynamo=False)
    torch.onnx.export(text, (ids, mask), txt_path, input_names=["input_ids", "attention_mask"], output_names=["text_embeds"],
                      dynamic_axes={"input_ids": {0: "B", 1: "T"}, "attention_mask": {0: "B", 1: "T"}, "text_embeds": {0: "B"}},
                      opset_version=17, dynamo=False)
    import onnxruntime as ort

    with torch.no_grad():
        # A pattern the TypeScript fixture test rebuilds: x[i] = ((i * 7919) % 255) / 127.5 - 1 (no 15 MB of JSON).
        shape = (1, v["framesPerClip"], 3, v["imageHeight"], v["imageWidth"])
        pix8 = ((torch.arange(int(np.prod(shape)), dtype=torch.int64) * 7919 % 255).float() / 127.5 - 1).reshape(shape)
        ref_v, ref_t = video(pix8), text(ids, mask)
    got_v = ort.InferenceSession(vid_path, providers=["CPUExecutionProvider"]).run(None, {"pixel_values": pix8.numpy()})[0]
    got_t = ort.InferenceSession(txt_path, providers=["CPUExecutionProvider"]).run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
    diff = max(float(np.abs(got_v - ref_v.numpy()).max()), float(np.abs(got_t - ref_t.numpy()).max()))
    print(f"{name}: ort vs torch max abs diff {diff:.2e}", flush=True)
    assert diff < 1e-4, "exported retrieval graph does not match PyTorch"
    tok.save(os.path.join(out, "tokenizer.json"))
    config = {"format": "sightline-retrieval", "formatVersion": 1, "name": f"{cfg['name']}-{name}", "promptCube": use_cube,
              "video": {k: v[k] for k in ("imageWidth", "imageHeight", "framesPerClip", "mean", "std", "embedDim")},
              "clipSeconds": cfg["clipSeconds"], "text": {"maxTokens": cfg["text"]["maxTokens"], "bos": "<|bos|>", "eos": "<|eos|>", "pad": "<|pad|>"}}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({"pixelShape": list(pix8.shape), "pixelPattern": "((i * 7919) % 255) / 127.5 - 1", "video_embeds": ref_v.reshape(-1).tolist(),
                   "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "text_embeds": ref_t.reshape(-1).tolist()}, f)
