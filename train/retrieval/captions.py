"""Clip captions of another version for matches already rendered: captions depend on the seed alone, so the
synth CLI runs the match at 16x16 pixels, 1 fps, to /dev/null, and only its --captions file is kept (about
half a second of one core per 600-s match, against ~14 s for a real render)."""
import json
import os
import subprocess
from concurrent.futures import ProcessPoolExecutor

from ..vlm.data import CLI, NODE


def caption_command(seed, seconds, clip_seconds, version, path):
    cmd = [NODE, CLI, "synth", "--seed", str(seed), "--seconds", str(seconds), "--width", "16", "--height", "16",
           "--fps", "1", "--format", "rgb24", "--out", "/dev/null", "--captions", path, "--clip-seconds", str(clip_seconds)]
    if version != 1:
        cmd += ["--caption-version", str(version)]
    return cmd


def _captions(args):
    seed, seconds, clip_seconds, version, tmp = args
    path = os.path.join(tmp, f"{seed}.captions-v{version}.jsonl")
    subprocess.run(caption_command(seed, seconds, clip_seconds, version, path), check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def captions_of_version(seeds, cfg, version, tmp, workers):
    """Per seed (in order), the caption records of `version` for the config's match length and clip length."""
    jobs = [(s, cfg["matchSeconds"], cfg.get("clipSeconds", 10), version, tmp) for s in seeds]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_captions, jobs))
