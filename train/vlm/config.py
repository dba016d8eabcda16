"""The training config of one stage: train/configs/vlm.json with that stage's "override" (a new name, an
architecture or rendering change) and any `--set KEY=JSON` values merged in. One function, so the trainer,
the renderer and the exporter all see the same settings."""
import json


def deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def parse_setting(text: str) -> dict:
    """"a.b=JSON" -> {"a": {"b": value}} (a bare word that is not JSON is taken as a string)."""
    path, _, raw = text.partition("=")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    for key in reversed(path.split(".")):
        value = {key: value}
    return value


def stage_config(path: str, stage, settings=()) -> dict:
    """Raises KeyError naming the stage when the config has no such stage."""
    cfg = json.load(open(path))
    if str(stage) not in cfg["stages"]:
        raise KeyError(f"stage {stage}: the config has stages {', '.join(cfg['stages'])}")
    return stage_config_with(deep_merge(cfg, cfg["stages"][str(stage)].get("override", {})), settings)


def stage_config_with(cfg: dict, settings=()) -> dict:
    """`cfg` with `--set KEY=JSON` values merged in."""
    for setting in settings:
        cfg = deep_merge(cfg, parse_setting(setting))
    return cfg


def checkpoint_config(cfg: dict, checkpoint: dict, settings=()) -> dict:
    """`cfg` with the shapes a checkpoint carries (since stage 6: a grown model differs from the config's),
    then `--set` values again, so a setting can still grow it further."""
    arch = checkpoint.get("architecture")
    if not arch:
        return cfg
    decoder = {k: v for k, v in arch["decoder"].items() if k != "vocabSize"}
    cfg = {**cfg, "decoder": {**cfg["decoder"], **decoder}, "vision": {**cfg["vision"], **arch["vision"]}}
    return stage_config_with(cfg, settings)
