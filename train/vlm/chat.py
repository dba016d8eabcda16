"""The chat layout every Sightline commentator folder declares in config.json (docs/model-format.md)."""
CHAT = {
    "system": "<|system|>{prompt}<|end|>",
    "defaultPrompt": "You are a football commentator. Describe the match live.",
    "roundHeader": "<|user|>Time={start}-{end} s",
    "assistant": "<|assistant|>",
    "silence": " ...",
    "endOfTurn": "<|end|>",
}
