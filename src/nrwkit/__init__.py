"""nrwkit: an open toolkit for reducing non-revenue water.

Layers, from the bottom (``make lint`` enforces them with ``.importlinter``):

- foundation: :mod:`nrwkit.findings` (the one shape of warnings and check results),
  :mod:`nrwkit.crs`, :mod:`nrwkit.units`, :mod:`nrwkit.errors` (the exception hierarchy),
  :mod:`nrwkit.outputs` (safe file writing), :mod:`nrwkit.inputs`;
- :mod:`nrwkit.hydraulics`: the one door to the engines (EPANET in memory, WNTR);
- :mod:`nrwkit.network` (reading, summaries, validation checks), :mod:`nrwkit.gis`
  (GeoPackage layers), :mod:`nrwkit.networks` (bundled networks, ``load``),
  :mod:`nrwkit.workspace`;
- capabilities: :mod:`nrwkit.balance` (IWA/AWWA water balance), :mod:`nrwkit.dma` (DMA
  design), :mod:`nrwkit.leaks` (detection and localisation), :mod:`nrwkit.metering` (customer
  meter accuracy, apparent losses, replacement);
- :mod:`nrwkit.pressure` (pressure-management scenarios on DMAs: PRV modes, FAVAD leakage);
- :mod:`nrwkit.ensemble` (many scenarios on a process pool or a Dask cluster, resumable);
- :mod:`nrwkit.exercise` (leak-detection training exercises, scored answers, step tests);
- :mod:`nrwkit.plot` and :mod:`nrwkit.report` (maps, HTML reports).
"""

from importlib.metadata import PackageNotFoundError, version

from . import balance as balance
from . import crs as crs
from . import dma as dma
from . import ensemble as ensemble
from . import errors as errors
from . import exercise as exercise
from . import findings as findings
from . import gis as gis
from . import hydraulics as hydraulics
from . import inputs as inputs
from . import leaks as leaks
from . import metering as metering
from . import network as network
from . import networks as networks
from . import outputs as outputs
from . import plot as plot
from . import pressure as pressure
from . import report as report
from . import units as units
from . import workspace as workspace

try:
    __version__ = version("nrwkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "balance",
    "crs",
    "dma",
    "errors",
    "findings",
    "gis",
    "hydraulics",
    "inputs",
    "leaks",
    "network",
    "networks",
    "outputs",
    "plot",
    "report",
    "units",
    "workspace",
]
