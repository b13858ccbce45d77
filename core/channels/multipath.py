"""A seeded physical multipath channel: sample channel data of any size (e.g. 256x256x150).

The channel between a moving single-antenna transmitter and a uniform linear array (ULA) of
``n_ant`` receive antennas, over ``n_sub`` OFDM subcarriers and ``n_time`` snapshots, is a sum of
``P`` propagation paths::

    H[k, t, a] = sum_p g_p exp(-j 2 pi f_k tau_p) exp(j 2 pi nu_p t T) exp(-j pi a sin theta_p)

* ``f_k = (k - n_sub / 2) * bandwidth / n_sub`` -- subcarrier frequency offset (Hz);
* ``tau_p`` -- path delay (s): the first path at 0, the others exponentially distributed with
  the RMS ``delay_spread`` (s), grouped in ``clusters``;
* ``nu_p = speed / wavelength * cos(phi_p)`` -- Doppler shift (Hz) of a path arriving at angle
  ``phi_p`` to the direction of motion; ``T = snapshot_interval`` (s);
* ``theta_p`` -- angle of arrival at the half-wavelength ULA (rad), clustered around per-cluster
  means with ``angle_spread`` (deg);
* ``g_p`` -- complex Gaussian gain with an exponential power-delay profile (power
  ``exp(-tau_p / delay_spread)``), plus a line-of-sight path with Rician factor ``k_factor_db``;
  total power normalised to 1.

Optional complex white noise at ``snr_db``. ``domain="delay"`` returns the inverse FFT over the
subcarriers (the channel impulse response: sparse, most taps near zero), which is how channel
matrices often look before SR. The result is ``n_sub x n_time x n_ant`` complex64 (axes
``"HWC"``). Same seed, same channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import ImageData
from ..errors import InputError
from .arrays import channels_from_array

__all__ = ["MultipathChannel", "multipath_channel", "sample_channels", "SPEED_OF_LIGHT"]

SPEED_OF_LIGHT = 299_792_458.0  # m/s


@dataclass(frozen=True, eq=False)
class MultipathChannel:
    """A generated channel: ``h`` (``n_sub x n_time x n_ant`` complex64) and its paths.

    ``delays`` (s), ``dopplers`` (Hz), ``angles`` (rad), ``gains`` (complex) have one entry per
    path; ``params`` holds every argument used (so the run can be repeated).
    """

    h: np.ndarray
    delays: np.ndarray
    dopplers: np.ndarray
    angles: np.ndarray
    gains: np.ndarray
    params: dict = field(default_factory=dict)


def _check(name: str, value: float, low: float = 0.0, strict: bool = True) -> float:
    v = float(value)
    if not np.isfinite(v) or (v <= low if strict else v < low):
        raise InputError(f"{name} must be {'>' if strict else '>='} {low:g}, got {value!r}")
    return v


def multipath_channel(n_sub: int = 256, n_time: int = 256, n_ant: int = 150, *,
                      paths: int = 24, clusters: int = 4, carrier: float = 3.5e9,
                      bandwidth: float = 20e6, snapshot_interval: float = 1e-3,
                      speed: float = 3.0, delay_spread: float = 100e-9,
                      angle_spread: float = 5.0, k_factor_db: float | None = 3.0,
                      snr_db: float | None = None, domain: str = "frequency",
                      seed: int = 0) -> MultipathChannel:
    """Generate a channel (see the module docstring for the model and the units).

    Args:
        n_sub, n_time, n_ant: subcarriers (H), snapshots (W), receive antennas (C).
        paths: scattered paths (>= 1), spread over ``clusters`` clusters.
        carrier: carrier frequency (Hz); bandwidth: occupied bandwidth (Hz).
        snapshot_interval: time between snapshots (s); speed: terminal speed (m/s).
        delay_spread: RMS delay spread (s); angle_spread: per-cluster angle spread (degrees).
        k_factor_db: Rician K of an added line-of-sight path (dB), None for none.
        snr_db: add complex white Gaussian noise at this SNR (dB), None for none.
        domain: ``frequency`` (subcarriers) or ``delay`` (IFFT over subcarriers: taps).
        seed: the random seed.
    """
    sizes = (int(n_sub), int(n_time), int(n_ant))
    if min(sizes) < 1 or int(paths) < 1 or int(clusters) < 1:
        raise InputError(f"sizes, paths and clusters must be at least 1, got {sizes}, "
                         f"{paths} paths, {clusters} clusters")
    if domain not in ("frequency", "delay"):
        raise InputError(f"domain must be 'frequency' or 'delay', got {domain!r}")
    carrier = _check("carrier", carrier)
    bandwidth = _check("bandwidth", bandwidth)
    snapshot_interval = _check("snapshot_interval", snapshot_interval)
    speed = _check("speed", speed, strict=False)
    delay_spread = _check("delay_spread", delay_spread)
    angle_spread = _check("angle_spread", angle_spread, strict=False)
    for name, db in (("snr_db", snr_db), ("k_factor_db", k_factor_db)):  # None: none added
        if db is not None and not np.isfinite(float(db)):
            raise InputError(f"{name} must be a finite number of dB (or None), got {db!r}")
    if not 0 <= int(seed) < 2**32:  # what numpy and torch.manual_seed both take
        raise InputError(f"the seed must be an integer in [0, 2**32), got {seed!r}")
    params = dict(n_sub=sizes[0], n_time=sizes[1], n_ant=sizes[2], paths=int(paths),
                  clusters=int(clusters), carrier=carrier, bandwidth=bandwidth,
                  snapshot_interval=snapshot_interval, speed=speed, delay_spread=delay_spread,
                  angle_spread=angle_spread, k_factor_db=k_factor_db, snr_db=snr_db,
                  domain=domain, seed=int(seed))
    rng = np.random.default_rng(int(seed))
    n_paths, n_cl = int(paths), min(int(clusters), int(paths))

    # scattered paths: clusters with their own delay and mean angle
    cl_delay = np.sort(rng.exponential(delay_spread, n_cl))
    cl_angle = rng.uniform(-np.pi / 3, np.pi / 3, n_cl)
    member = np.arange(n_paths) % n_cl
    delays = cl_delay[member] + rng.exponential(delay_spread / 10, n_paths)
    angles = cl_angle[member] + np.deg2rad(angle_spread) * rng.standard_normal(n_paths)
    power = np.exp(-delays / delay_spread)
    gains = np.sqrt(power / 2) * (rng.standard_normal(n_paths) + 1j * rng.standard_normal(n_paths))
    motion = rng.uniform(-np.pi, np.pi, n_paths)  # angle between path and direction of motion
    if k_factor_db is not None:  # the line-of-sight path: first, strongest, no extra delay
        k_lin = 10 ** (float(k_factor_db) / 10)
        scattered = np.sum(np.abs(gains) ** 2)
        los = np.sqrt(k_lin * scattered) * np.exp(1j * rng.uniform(-np.pi, np.pi))
        delays = np.concatenate([[0.0], delays])
        angles = np.concatenate([[rng.uniform(-np.pi / 3, np.pi / 3)], angles])
        gains = np.concatenate([[los], gains])
        motion = np.concatenate([[rng.uniform(-np.pi, np.pi)], motion])
    delays = delays - delays.min()
    gains = gains / np.sqrt(np.sum(np.abs(gains) ** 2))
    wavelength = SPEED_OF_LIGHT / carrier
    dopplers = speed / wavelength * np.cos(motion)

    f = (np.arange(sizes[0]) - sizes[0] / 2) * (bandwidth / sizes[0])
    t = np.arange(sizes[1]) * snapshot_interval
    a = np.arange(sizes[2])
    freq = (np.exp(-2j * np.pi * np.outer(f, delays)) * gains).astype(np.complex64)  # (K, P)
    time = np.exp(2j * np.pi * np.outer(dopplers, t))  # (P, T)
    space = np.exp(-1j * np.pi * np.outer(np.sin(angles), a))  # (P, A)
    rest = (time[:, :, None] * space[:, None, :]).astype(np.complex64).reshape(len(gains), -1)
    h = (freq @ rest).reshape(sizes)
    if snr_db is not None:
        sigma = np.sqrt(10 ** (-float(snr_db) / 10) / 2)
        noise = rng.standard_normal((2,) + sizes, dtype=np.float32) * np.float32(sigma)
        h += noise[0] + 1j * noise[1]
    if domain == "delay":
        h = np.fft.ifft(np.fft.ifftshift(h, axes=0), axis=0).astype(np.complex64)
    return MultipathChannel(h.astype(np.complex64), delays, dopplers, angles, gains, params)


def sample_channels(shape: tuple[int, int, int] = (64, 64, 16), *, seed: int = 0,
                    complex_mode: str = "real_imag", norm: str = "channel",
                    domain: str = "frequency", **model_args) -> ImageData:
    """The bundled channel sample: :func:`multipath_channel` as channel data (kind channels).

    ``shape`` is ``(subcarriers, snapshots, antennas)``, e.g. ``(256, 256, 150)`` for the
    mission's size. ``meta["name"]`` is ``"multipath"`` and ``meta["channel_model"]`` the
    generator's parameters.
    """
    ch = multipath_channel(*shape, seed=seed, domain=domain, **model_args)
    meta = {"name": "multipath", "channel_model": ch.params}
    return channels_from_array(ch.h, axes="HWC", complex_mode=complex_mode, norm=norm,
                               name="the multipath sample", meta=meta)
