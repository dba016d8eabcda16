"""Retrieval metrics of the MSR-VTT 1k-A protocol on a text x video similarity matrix (true pair on the diagonal)."""
import numpy as np


def ranks(sim: np.ndarray) -> np.ndarray:
    """1-based rank of the true item in each row."""
    order = np.argsort(-sim, axis=1)
    return np.nonzero(order == np.arange(sim.shape[0])[:, None])[1] + 1


def summary(r: np.ndarray) -> dict:
    return {"R@1": float(np.mean(r <= 1) * 100), "R@5": float(np.mean(r <= 5) * 100), "R@10": float(np.mean(r <= 10) * 100),
            "MdR": float(np.median(r)), "MnR": float(np.mean(r))}


def retrieval_metrics(text_by_video: np.ndarray) -> dict:
    return {"textToVideo": summary(ranks(text_by_video)), "videoToText": summary(ranks(text_by_video.T))}
