"""nrwkit: an open toolkit for reducing non-revenue water.

Modules by domain concept: :mod:`nrwkit.networks` (bundled networks, ``load``),
:mod:`nrwkit.network` (reading, summaries, validation checks), :mod:`nrwkit.hydraulics`
(the shared simulation layer), :mod:`nrwkit.gis` (GeoPackage layers), :mod:`nrwkit.errors`
(the exception hierarchy) and :mod:`nrwkit.outputs` (safe file writing).
"""

from importlib.metadata import PackageNotFoundError, version

from . import balance as balance
from . import errors as errors
from . import gis as gis
from . import hydraulics as hydraulics
from . import network as network
from . import networks as networks
from . import outputs as outputs
from . import plot as plot
from . import report as report
from . import workspace as workspace

try:
    __version__ = version("nrwkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "balance",
    "errors",
    "gis",
    "hydraulics",
    "network",
    "networks",
    "outputs",
    "plot",
    "report",
    "workspace",
]
