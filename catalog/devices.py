"""Which torch device the sentence-transformers embedders run on.

By default the fastest one torch can see: CUDA, then Apple's MPS, else the CPU. The environment
variable ``SYNTHCAT_DEVICE`` (``cpu``, ``cuda``, ``cuda:N`` or ``mps``) overrides that, e.g. to keep
a GPU free for something else; a value that is not a device, or a device torch cannot use here, is
an error rather than a silent fall back to the CPU, so a job meant for the GPU never crawls on CPU.
"""

from __future__ import annotations

import os
import re

from catalog.errors import SynthcatError

DEVICE_ENV = "SYNTHCAT_DEVICE"
_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def torch_device() -> str:
    """The device name to load models on (``SYNTHCAT_DEVICE`` if set, else CUDA, MPS or CPU)."""
    import torch

    requested = os.environ.get(DEVICE_ENV, "").strip().lower()
    if not requested:
        if torch.cuda.is_available():
            return "cuda"
        return "mps" if _mps_available(torch) else "cpu"
    if not _DEVICE.match(requested):
        raise SynthcatError(f"{DEVICE_ENV}={requested!r} is not a device: use cpu, cuda, cuda:N or mps")
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SynthcatError(f"{DEVICE_ENV}={requested} but torch sees no CUDA device here "
                                f"(torch {torch.__version__}); unset it or use cpu")
        index = int(requested.split(":")[1]) if ":" in requested else 0
        count = torch.cuda.device_count()
        if index >= count:
            raise SynthcatError(f"{DEVICE_ENV}={requested} but torch sees {count} CUDA device(s) "
                                f"(cuda:0 to cuda:{count - 1})")
    elif requested == "mps" and not _mps_available(torch):
        raise SynthcatError(f"{DEVICE_ENV}=mps but torch sees no MPS device here; unset it or use cpu")
    return requested
