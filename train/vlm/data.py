"""Training data for the streaming VLM: matches rendered by src/synth (node, carried to the GPU machine),
degraded as live video is (JPEG compression, rescale, noise), and laid out exactly as the runtime cache
keeps them (docs/model-format.md): system | previous text (sink + window) | rounds."""
import json
import os
import re
import subprocess
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np

from .chat import CHAT

# The openings of src/synth/commentary.ts's goal lines ("Goal kick to ..." is not one).
GOAL_LINE = re.compile(r"^(GOAL!|It's in!|Goal for )| have scored!")
# Goal marks on a goal round's answer tokens: the opening (where the model decides to call a goal) and the
# completion after it (scorer, team, score: what a goal call that stops at "It's in!" leaves out).
GOAL_OPENING, GOAL_COMPLETION = 1.0, 2.0
SPECIAL = ["<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>", "<|vision|>"]
NODE = os.environ.get("SIGHTLINE_NODE", "node")
CLI = os.environ.get("SIGHTLINE_CLI", "dist/src/cli.js")


def degrade(frame: np.ndarray, rng: np.random.Generator, cfg: dict, size: tuple[int, int]) -> np.ndarray:
    """What ingest delivers from a compressed live source: lossy compression at source size, then ffmpeg's
    rescale to the model size, plus sensor-like noise."""
    q = int(rng.integers(cfg["jpegQuality"][0], cfg["jpegQuality"][1] + 1))
    ok, buf = cv2.imencode(".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]
    interp = [cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC][int(rng.integers(0, 3))]
    img = cv2.resize(img, size, interpolation=interp).astype(np.float32)
    img *= rng.uniform(*cfg["brightness"])
    img += rng.normal(0, rng.uniform(*cfg["noiseSigma"]), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_match(args) -> dict:
    """Render one match with the synth CLI to a pipe, degrade each 2 fps frame, keep the transcript."""
    seed, seconds, render, degrade_cfg, size, tmp, clip_seconds, start_score = args
    w, h = render["width"], render["height"]
    truth = os.path.join(tmp, f"{seed}.truth.json")
    events = os.path.join(tmp, f"{seed}.events.jsonl")
    captions = os.path.join(tmp, f"{seed}.captions.jsonl")
    cmd = [NODE, CLI, "synth", "--seed", str(seed), "--seconds", str(seconds), "--width", str(w), "--height", str(h),
           "--fps", str(render["fps"]), "--out", "-", "--truth", truth, "--events", events,
           "--captions", captions, "--clip-seconds", str(clip_seconds)]
    if start_score:
        cmd += ["--start-score", start_score]
    world = world_version(seed, render)
    if world != 1:  # world 1 is the synth's default: the command of earlier stages stays as it was
        cmd += ["--world-version", str(world)]
    captions_v = int(render.get("captionVersion", 1))
    if captions_v != 1:  # `render.captionVersion` (retrieval): version 1 is the synth's default, as above
        cmd += ["--caption-version", str(captions_v)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    rng = np.random.default_rng(seed)
    frames = []
    n_bytes = w * h * 3
    while True:
        raw = proc.stdout.read(n_bytes)
        if len(raw) < n_bytes:
            break
        frame = np.frombuffer(raw, np.uint8).reshape(h, w, 3)
        frames.append(degrade(frame, rng, degrade_cfg, size))
    if proc.wait() != 0:
        raise RuntimeError(f"synth failed for seed {seed}")
    with open(truth) as f:
        content = json.load(f)["content"]
    with open(events) as f:
        ev = [json.loads(line) for line in f if line.strip()]
    with open(captions) as f:
        caps = [json.loads(line) for line in f if line.strip()]
    texts = [row[2] for row in content]
    n = min(len(texts), len(frames) // render["fps"])
    return {"seed": seed, "frames": np.stack(frames[: n * render["fps"]]), "texts": texts[:n], "events": ev, "captions": caps}


def start_score(seed: int, render: dict) -> str | None:
    """`render.startScore` {share, max}: that share of matches (chosen by seed) starts from a random score up
    to max-max, as a broadcast joined late, so two-digit scoreboards are seen in training (600-s matches from
    0-0 never get there, and long streams do)."""
    spec = render.get("startScore")
    if not spec:
        return None
    rng = np.random.default_rng([seed, 7])
    if rng.random() >= spec["share"]:
        return None
    a, b = rng.integers(0, spec["max"] + 1, 2)
    return f"{a}-{b}"


def world_version(seed: int, render: dict) -> int:
    """`render.world` (default 1): the synth's world version (docs/synth.md; 2 hides the scoreboard at times and
    puts facts only memory gives in the commentary). `render.worldOneShare`: that share of matches (chosen by
    seed) stays in world 1, so a model trained on world 2 keeps seeing the world its earlier results are on."""
    world = int(render.get("world", 1))
    share = render.get("worldOneShare", 0.0)
    if world != 1 and share and np.random.default_rng([seed, 11]).random() < share:
        return 1
    return world


def render_job(seed: int, cfg: dict, tmp: str) -> tuple:
    size = (cfg["vision"]["imageWidth"], cfg["vision"]["imageHeight"])
    return (seed, cfg["matchSeconds"], cfg["render"], cfg["degrade"], size, tmp, cfg.get("clipSeconds", 10),
            start_score(seed, cfg["render"]))


def render_matches(seeds, cfg: dict, tmp: str, workers: int) -> list[dict]:
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(render_match, [render_job(s, cfg, tmp) for s in seeds]))


def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    header_lines = [f"Time={t}-{t + 1} s" for t in range(0, 7200, 7)]
    tok.train_from_iterator(texts + header_lines + [CHAT["defaultPrompt"]], trainer=trainer)
    return tok


# src/synth/commentary.ts: the headline event of a second is the most newsworthy (earliest on a tie).
PRIORITY = {"goal": 10, "full_time": 9, "half_time": 9, "save": 8, "shot": 7, "kickoff": 6, "corner": 6,
            "tackle": 4, "interception": 4, "dribble": 3, "goal_kick": 3, "throw_in": 3, "pass": 1}
EVENT_TYPES = sorted(PRIORITY)
KIT_COLOURS = ["Red", "Blue", "Yellow", "White", "Black", "Orange", "Purple", "Sky Blue"]


def rename_colours(text: str, mapping: dict) -> str:
    """Swap kit colour names in one pass (longest first, so "Sky Blue" is not read as "Blue")."""
    import re

    names = sorted(mapping, key=len, reverse=True)
    return re.sub("|".join(re.escape(n) for n in names), lambda m: mapping[m.group(0)], text)


def visible_second(t: float) -> int:
    """The first ingest chunk whose frames (at s and s + 0.5) show an event at time t."""
    return int(t + 0.5)


def lagged_commentary(texts: list[str], events: list[dict], queue: bool = False) -> list[str]:
    """Move each spoken line to a chunk whose frames can show its headline event: an event in the last half of
    second s is invisible in that chunk's frames (s, s + 0.5), so its line can come at s + 1 at the earliest.
    Evaluation accepts a line at s or s + 1, so each line has a slot [first visible chunk, s + 1].

    Two lines can want the same chunk (a shot late in s and the save early in s + 1). With `queue` False
    (stages 1-6) the higher-priority line wins and the other is lost, which caps recall at about 91% even for
    a perfect model. With `queue` True (stage 7 on) lines are placed earliest deadline first, each in the
    first free chunk of its slot (the shot at s + 1, the save one chunk later), and only a line with no free
    chunk left falls back to the priority rule: every line of the reference fits on the seeds measured."""
    by_second: dict[int, list[dict]] = {}
    for e in events:
        by_second.setdefault(e["second"], []).append(e)
    last = len(texts) - 1
    lines = []  # (deadline, first chunk, priority, text)
    for s, text in enumerate(texts):
        if text == CHAT["silence"] or s not in by_second:
            continue
        top = None
        for e in by_second[s]:
            if top is None or PRIORITY[e["type"]] > PRIORITY[top["type"]]:
                top = e
        first = min(visible_second(top["t"]), last)
        lines.append((min(s + 1, last) if queue else first, first, PRIORITY[top["type"]], text))
    out = [CHAT["silence"]] * len(texts)
    rank = [-1] * len(texts)
    for deadline, first, priority, text in sorted(lines, key=lambda l: l[:2]) if queue else lines:
        slots = range(first, deadline + 1)
        free = [m for m in slots if rank[m] < 0]
        m = free[0] if free else min(slots, key=lambda m: rank[m])
        if priority > rank[m]:
            out[m], rank[m] = text, priority
    return out


def event_targets(events: list[dict], seconds: int) -> np.ndarray:
    """Per second, a multi-hot over (event type x kit colour) of events first visible in that chunk:
    the auxiliary target that teaches the vision encoder what happens on screen."""
    y = np.zeros((seconds, len(EVENT_TYPES) * len(KIT_COLOURS)), np.float32)
    for e in events:
        s = visible_second(e["t"])
        if s < seconds and e["team"] in KIT_COLOURS:
            y[s, EVENT_TYPES.index(e["type"]) * len(KIT_COLOURS) + KIT_COLOURS.index(e["team"])] = 1
    return y


def possession_targets(events: list[dict], frames: int, fps: int) -> np.ndarray:
    """Per sampled frame, the kit colour index of the team that last acted on the ball (the passer until the
    pass is won, the tackler after a tackle, the team given a restart), or len(KIT_COLOURS) before any event
    or when the acting side is not a kit colour: the dense auxiliary target."""
    y = np.full(frames, len(KIT_COLOURS), np.int64)
    ordered = sorted(events, key=lambda e: e["t"])
    current, j = len(KIT_COLOURS), 0
    for i in range(frames):
        while j < len(ordered) and ordered[j]["t"] <= i / fps:
            team = ordered[j]["team"]
            current = KIT_COLOURS.index(team) if team in KIT_COLOURS else len(KIT_COLOURS)
            j += 1
        y[i] = current
    return y


class Layout:
    """Token ids of one training window, numbered and masked as the runtime cache keeps them."""

    def __init__(self, tok, cfg: dict):
        self.tok = tok
        self.ids = {s: tok.token_to_id(s) for s in SPECIAL}
        self.end = self.ids["<|end|>"]
        self.vision = self.ids["<|vision|>"]
        self.system = tok.encode(CHAT["system"].replace("{prompt}", CHAT["defaultPrompt"])).ids
        self.assistant = tok.encode(CHAT["assistant"]).ids
        self.vis_per_second = cfg["vision"]["framesPerSecond"] * cfg["vision"]["tokensPerFrame"]
        self.sink = cfg["layout"]["textSinkTokens"]
        self.context_dropout = 0.0
        self.colour_noise = 0.0
        self.window = cfg["layout"]["textWindowTokens"]
        self.cache = {}

    def text_ids(self, text: str) -> list[int]:
        if text not in self.cache:
            self.cache[text] = self.tok.encode(text).ids
        return self.cache[text]

    def header(self, s: int) -> list[int]:
        return self.text_ids(CHAT["roundHeader"].replace("{start}", str(s)).replace("{end}", str(s + 1)))

    def previous(self, texts: list[str], upto: int, rename=None) -> list[int]:
        """Commentary of seconds before `upto`, each + end of turn; silence contributes nothing;
        then truncated to the first `sink` + last `window` tokens, as the cache does. `rename` maps kit
        colours to others (context noise: the model must read teams from pixels, not copy them)."""
        ids: list[int] = []
        for text in texts[:upto]:
            if rename:
                text = rename(text)
            if text.strip() and text != CHAT["silence"]:
                ids += self.text_ids(text) + [self.end]
        if len(ids) > self.sink + self.window:
            ids = ids[: self.sink] + ids[-self.window :]
        return ids

    def window_ids(self, texts: list[str], start: int, seconds: int, rng=None):
        """ids (vision slots marked with <|vision|>), labels (-100 where not trained), and goal marks (on the
        answer of a goal round, GOAL_OPENING then GOAL_COMPLETION: the trainer can weight the loss there,
        validation scores it). With `rng`, the
        previous-text block is sometimes dropped (a fresh stream) or given wrong team names, so naming a
        team has to come from the picture (without this the model copies names from the context)."""
        previous = self.previous(texts, start)
        if rng is not None:
            roll = rng.random()
            if roll < self.context_dropout:
                previous = []
            elif roll < self.context_dropout + self.colour_noise:
                shuffled = KIT_COLOURS[:]
                rng.shuffle(shuffled)
                previous = self.previous(texts, start, rename=lambda t: rename_colours(t, dict(zip(KIT_COLOURS, shuffled))))
        ids = list(self.system) + previous
        labels = [-100] * len(ids)
        goal = [0.0] * len(ids)
        for s in range(start, start + seconds):
            prompt = self.header(s) + [self.vision] * self.vis_per_second + self.assistant
            answer = self.text_ids(texts[s] if texts[s].strip() else CHAT["silence"]) + [self.end]
            ids += prompt + answer
            labels += [-100] * len(prompt) + answer
            goal += [0.0] * len(prompt) + self.goal_marks(texts[s], len(answer))
        return ids, labels, goal

    def goal_marks(self, text: str, n: int) -> list[float]:
        """Per answer token (n, end of turn included): 0 unless a goal line, then its opening's tokens (up to
        the end of the matched opening, e.g. "It's in!" or "Sky Blue have scored!") and the rest."""
        m = GOAL_LINE.search(text)
        if not m:
            return [0.0] * n
        opening = min(len(self.text_ids(text[: m.end()].rstrip())), n)
        return [GOAL_OPENING] * opening + [GOAL_COMPLETION] * (n - opening)
