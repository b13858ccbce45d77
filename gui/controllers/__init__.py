"""One small controller per feature, composed by :class:`AppController` (see its module)."""

from .app import AppController
from .channels import ChannelsController
from .figure import FigureController
from .folder import FolderController
from .finetune import FinetuneController
from .inputs import InputsController
from .ipf import IpfController
from .lam import LamController
from .metrics import MetricsController
from .models import ModelsController
from .normals import NormalsController
from .run import RunController
from .study import StudyController
from .surface import SurfaceController
from .zeroshot import ZeroShotController
from .zoom import ZoomController

__all__ = ["AppController", "ChannelsController", "FigureController", "FolderController", "FinetuneController", "InputsController",
           "IpfController", "LamController", "MetricsController", "ModelsController",
           "NormalsController", "RunController", "StudyController", "SurfaceController",
           "ZeroShotController", "ZoomController"]
