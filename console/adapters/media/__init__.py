"""The console's media engine: aiortc on its own thread, QtMultimedia devices, frame hand-off."""

from console.adapters.media.engine import AiortcMediaEngine
from console.adapters.media.frames import VideoFrameSink
from console.adapters.media.local_sources import LocalMediaStatus

__all__ = ["AiortcMediaEngine", "LocalMediaStatus", "VideoFrameSink"]
