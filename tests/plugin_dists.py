"""Build throwaway installed distributions on disk, so plugin discovery runs for real.

``importlib.metadata`` finds any ``*.dist-info`` folder on ``sys.path``; a folder with a
``METADATA`` and an ``entry_points.txt`` is an installed distribution as far as it knows.
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_dist(
    root: Path, dist: str, module: str, source: str, entry_name: str | None = None
) -> None:
    """Install distribution ``dist`` with one module and one ``hub`` entry point into ``root``."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[hub]\n{entry_name or module} = {module}\n")


CHANNEL_PLUGIN = """
    from pydantic import BaseModel
    from hub.contract import ChannelType, hookimpl

    class Config(BaseModel):
        token: str = "t"

    class {cls}(ChannelType):
        name = "{type_name}"
        title = "{cls}"
        description = "A test channel."
        logo = "<svg xmlns='http://www.w3.org/2000/svg'/>"
        Config = Config

    @hookimpl
    def hub_register_channel_types():
        return [{cls}]
"""


def channel_plugin(cls: str, type_name: str) -> str:
    """Source of a valid plugin module registering one channel type."""
    return CHANNEL_PLUGIN.format(cls=cls, type_name=type_name)
