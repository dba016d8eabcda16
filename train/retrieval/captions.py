"""Clip captions of another version for matches already rendered: captions depend on the seed alone, so the
synth CLI runs the match at 16x16 pixels, 1 fps, to /dev/null, and only its --captions file is kept (about a
second of one core per 600-s match, against ~14 s for a real render). Started as plain child processes, so
they can run beside the render pool without threads."""
import json
import os
import subprocess

from ..vlm.data import CLI, NODE


def caption_command(seed, seconds, clip_seconds, version, path):
    cmd = [NODE, CLI, "synth", "--seed", str(seed), "--seconds", str(seconds), "--width", "16", "--height", "16",
           "--fps", "1", "--format", "rgb24", "--out", "/dev/null", "--captions", path, "--clip-seconds", str(clip_seconds)]
    if version != 1:
        cmd += ["--caption-version", str(version)]
    return cmd


def start_captions(seeds, cfg, version, tmp):
    """Starts one synth per seed; returns what collect_captions waits on."""
    started = []
    for seed in seeds:
        path = os.path.join(tmp, f"{seed}.captions-v{version}.jsonl")
        cmd = caption_command(seed, cfg["matchSeconds"], cfg.get("clipSeconds", 10), version, path)
        started.append((seed, path, subprocess.Popen(cmd, stdout=subprocess.DEVNULL)))
    return started


def collect_captions(started):
    """Per seed (in order), its caption records."""
    out = []
    for seed, path, proc in started:
        if proc.wait() != 0:
            raise RuntimeError(f"synth captions failed for seed {seed}")
        with open(path) as f:
            out.append([json.loads(line) for line in f if line.strip()])
    return out
