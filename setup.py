"""Package layout for setuptools (the metadata is in pyproject.toml).

The import packages keep the checkout's names (core, gui, cli; see the README, "Install"), plus
``srw`` (the commands). ``resources/`` and ``configs/`` stay at the top of the checkout and are
installed as package data inside ``srw`` (``srw/resources``, ``srw/configs``), where
``core.resources`` finds them with importlib.resources.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["core", "core.*", "gui", "gui.*", "cli", "cli.*", "srw"])
    + ["srw.resources", "srw.configs"],
    package_dir={"srw.resources": "resources", "srw.configs": "configs"},
    package_data={"srw.resources": ["weights/*.pth", "weights/*.md", "weights/*/*.pth",
                                    "weights/*/*.md"],
                  "srw.configs": ["*.yaml"]},
    include_package_data=False,
)
