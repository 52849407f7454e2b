"""APEL messages: the formats, a strict parser that follows APEL's loader, and writers. No Django."""

from .formats import BENCHMARK_TYPES, CLOUD, CLOUD_SUMMARY, FORMATS, JOB, SUMMARY, RecordFormat
from .parse import MessageRejected, iter_records, parse_datetime, parse_message, read_header
from .queue import element_names, queue_add, queue_elements
from .write import MAX_RECORDS, format_record, message_text, messages

__all__ = [
    "BENCHMARK_TYPES",
    "CLOUD",
    "CLOUD_SUMMARY",
    "FORMATS",
    "JOB",
    "MAX_RECORDS",
    "SUMMARY",
    "MessageRejected",
    "element_names",
    "RecordFormat",
    "format_record",
    "iter_records",
    "message_text",
    "messages",
    "parse_datetime",
    "parse_message",
    "queue_add",
    "queue_elements",
    "read_header",
]
