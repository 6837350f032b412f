"""Built-in content detectors. See `base.Detector` for the interface."""

from __future__ import annotations

from .base import Detector, Hit
from .keywords import KeywordDetector, default_detectors

__all__ = ["Detector", "Hit", "KeywordDetector", "default_detectors"]
