"""Every write of the APEL exchange: mappings, imports of APEL messages, exports of usage as APEL messages.

- `mappings`: an offering's mapping (checked), and which resource a VO or backend_id names.
- `imports`: a message in, whole or not at all; its records become usage through the mapping.
- `exports`: the month's usage out as summary messages, streamed, into an SSM outgoing queue.
"""

from .exports import ExportResult, apel_export, export_messages
from .imports import ImportResult, apel_message_import
from .mappings import mapping_problems, mapping_save

__all__ = [
    "ExportResult",
    "ImportResult",
    "apel_export",
    "apel_message_import",
    "export_messages",
    "mapping_problems",
    "mapping_save",
]
