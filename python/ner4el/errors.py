"""The errors ner4el raises; the C++ core's exceptions arrive as these, with the C++ message."""


class Error(Exception):
    """Base of every error ner4el raises on purpose."""


class InvalidArgument(Error, ValueError):
    """An argument or option ner4el cannot use."""


class FormatError(Error, ValueError):
    """A file or record that does not follow its format; the message names the file, line or byte and field."""


class NotFoundError(Error, FileNotFoundError):
    """A file, directory or record that must exist does not."""
