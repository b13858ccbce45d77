"""Sample inputs that ship with installed packages: no network, ever.

The images come from the files bundled inside scikit-image's ``skimage/data`` folder (the
ones its ``skimage.data`` functions return without downloading). They are read directly from
that folder with :func:`core.io.load`, so no download helper (pooch) is ever involved.
"""

from __future__ import annotations

from pathlib import Path

from .data import ImageData
from .errors import InputError
from .io import load

__all__ = ["sample_image", "list_samples", "SAMPLES"]

#: name -> (file inside skimage/data, kind, description)
SAMPLES: dict[str, tuple[str, str, str]] = {
    "astronaut": ("astronaut.png", "rgb", "Eileen Collins, 512 x 512 RGB"),
    "chelsea": ("chelsea.png", "rgb", "Chelsea the cat, 451 x 300 RGB"),
    "coffee": ("coffee.png", "rgb", "a cup of coffee, 600 x 400 RGB"),
    "rocket": ("rocket.jpg", "rgb", "a rocket launch, 640 x 427 RGB (JPEG)"),
    "immunohistochemistry": ("ihc.png", "rgb", "stained tissue, 512 x 512 RGB"),
    "hubble_deep_field": ("hubble_deep_field.jpg", "rgb", "galaxies, 1000 x 872 RGB (JPEG)"),
    "camera": ("camera.png", "gray", "the cameraman, 512 x 512 gray"),
    "moon": ("moon.png", "gray", "lunar surface, 512 x 512 gray"),
    "brick": ("brick.png", "gray", "brick wall texture, 512 x 512 gray"),
}


def _data_dir() -> Path:
    try:
        import skimage
    except ImportError as exc:  # pragma: no cover
        raise InputError("sample images need scikit-image, which is not installed") from exc
    return Path(skimage.__file__).resolve().parent / "data"


def list_samples() -> list[str]:
    """Names of the samples available offline in this installation."""
    folder = _data_dir()
    return [name for name, (fname, _, _) in SAMPLES.items() if (folder / fname).is_file()]


def sample_image(name: str = "astronaut") -> ImageData:
    """A bundled sample as :class:`ImageData` (8-bit units, working range [0, 1]).

    ``meta["name"]`` is the sample name; ``source`` is the bundled file (so it is protected
    from being overwritten by :func:`core.io.save`).
    """
    if name not in SAMPLES:
        raise InputError(f"unknown sample {name!r}; available: {', '.join(SAMPLES)}")
    fname, kind, _ = SAMPLES[name]
    path = _data_dir() / fname
    if not path.is_file():
        raise InputError(f"sample {name!r} is not bundled with this scikit-image installation")
    data = load(path, kind=kind)
    data.meta["name"] = name
    return data
