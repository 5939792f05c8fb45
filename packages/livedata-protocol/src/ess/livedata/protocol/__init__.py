"""livedata's job protocol, in the facility's wire format (see ``docs/architecture.md``)."""

from .commands import (
    Command,
    JobAction,
    JobCommand,
    Schedule,
    WorkflowConfig,
    encode_command,
    parse_command,
)
from .heartbeats import (
    Heartbeat,
    HeartbeatStatus,
    JobMessage,
    JobState,
    NicosStatus,
    ServiceMessage,
    ServiceState,
    StreamStat,
    StreamStats,
)
from .identity import JobId, ResultKey, WorkflowId
from .responses import BROADCAST_DEVICE, Response, ResponseKind
from .roi import (
    Polygon,
    Rectangle,
    RoiColumns,
    RoiGeometry,
    RoiStream,
    polygons_from_columns,
    polygons_to_columns,
    rectangles_from_columns,
    rectangles_to_columns,
)

__all__ = [
    "BROADCAST_DEVICE",
    "Command",
    "Heartbeat",
    "HeartbeatStatus",
    "JobAction",
    "JobCommand",
    "JobId",
    "JobMessage",
    "JobState",
    "NicosStatus",
    "Polygon",
    "Rectangle",
    "Response",
    "ResponseKind",
    "ResultKey",
    "RoiColumns",
    "RoiGeometry",
    "RoiStream",
    "Schedule",
    "ServiceMessage",
    "ServiceState",
    "StreamStat",
    "StreamStats",
    "WorkflowConfig",
    "WorkflowId",
    "encode_command",
    "parse_command",
    "polygons_from_columns",
    "polygons_to_columns",
    "rectangles_from_columns",
    "rectangles_to_columns",
]
